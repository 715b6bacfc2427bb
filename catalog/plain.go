package catalog

import (
	"strconv"
	"strings"
)

// plainMessage is the message of a problem of KindPlain.
const plainMessage = "is sensitive and not encrypted (not the base64 of an RSA ciphertext)"

// plainFix says how to encrypt the fields of the KindPlain problems, in
// the terms of a wxpay call's options, "" when there are none:
//
//	fix: add "encrypt": ["bank_account", "real_name"] or "encrypt": true to the options
func plainFix(problems []Problem) string {
	var fields, params []string
	for _, p := range problems {
		if p.Kind != KindPlain {
			continue
		}
		if name, ok := strings.CutPrefix(p.Field, "query:"); ok {
			params = append(params, name)
		} else {
			fields = append(fields, strconv.Quote(p.Field))
		}
	}
	named := `"encrypt": [` + strings.Join(fields, ", ") + `]`
	byHand := "the ciphertext of Client.Encrypt as " + strings.Join(params, " and ")
	switch {
	case len(fields) > 0 && len(params) > 0:
		return `fix: add "encrypt": true to the options (or ` + named + `, with ` + byHand + ")"
	case len(fields) > 0:
		return "fix: add " + named + ` or "encrypt": true to the options`
	case len(params) > 0:
		return `fix: add "encrypt": true to the options, or send ` + byHand
	}
	return ""
}
