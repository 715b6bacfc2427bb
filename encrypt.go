package wxpay

// This file is the encrypt option of an APIv3 request, the stage after the
// body, headers and file (do.go), and the key choice behind it, which
// Client.Encrypt shares.

import (
	"bytes"
	"crypto/rsa"
	"fmt"
	"maps"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/tidwall/gjson"
	"github.com/wxpay-chain/wxpay/rsaenc"
	"github.com/wxpay-chain/wxpay/verifier"
)

// encryptPathHelp says which paths the encrypt option takes.
const encryptPathHelp = "name a field by its keys and array indexes joined by dots, such as payee.account or list.0.acct; " +
	"gjson modifiers, pipes, queries, wildcards and escapes read a value that cannot be written back"

// setEncrypted reads the encrypt option, the stage after the body and the
// headers of an APIv3 request (do.go): the named string fields of the json
// body (or, for true, every sensitive field of the body and query that
// Config.Checker finds) are replaced by their RSA-OAEP ciphertext under the
// key the Wechatpay-Serial header names, or else the one chooseKey picks,
// whose serial is then sent in that header.
func (c *Client) setEncrypted(p *prepared, ch Chain, opts Opts) error {
	ev, ok := option(opts, "encrypt")
	if !ok {
		return nil
	}
	fields, params, err := c.encryptTargets(p, ch, ev)
	if err != nil || len(fields)+len(params) == 0 {
		return err
	}
	serial := p.headerSerial() // headers.go
	used, key, err := c.encryptionKey(serial)
	if err != nil {
		return err
	}
	if len(fields) > 0 {
		if p.body, err = encryptFields(p.body, fields, key); err != nil {
			return err
		}
	}
	if len(params) > 0 {
		if p.target, err = encryptParams(p.target, opts, params, key); err != nil {
			return err
		}
	}
	if serial == "" {
		p.headers = append(p.headers, [2]string{"Wechatpay-Serial", used})
	}
	return nil
}

// encryptTargets returns the body fields and query parameters the encrypt
// option ev names: the paths given, or, for true, the sensitive fields and
// parameters the client's Checker finds in the request (false: none).
func (c *Client) encryptTargets(p *prepared, ch Chain, ev any) (fields, params []string, err error) {
	all, isBool := ev.(bool)
	if !isBool {
		fields, err = encryptPaths(ev)
		if err == nil && len(fields) > 0 && !p.fromJSON {
			err = fmt.Errorf("%w: encrypt needs a json body", ErrInvalidOption)
		}
		return fields, nil, err
	}
	switch {
	case !all:
		return nil, nil, nil
	case c.checker == nil:
		return nil, nil, fmt.Errorf("%w: encrypt: true needs Config.Checker (such as catalog.Checker()) to know which fields are sensitive; set it, or name the fields to encrypt", ErrInvalidOption)
	case p.body != nil && !p.fromJSON:
		return nil, nil, fmt.Errorf("%w: encrypt: true encrypts the fields of a json body, not of a raw body or a file", ErrInvalidOption)
	}
	r := c.checkedRequest(p, ch) // checker.go
	fields, params, err = c.checker.RequestSensitive(r.method, r.template, r.target, p.body)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: encrypt: true: %w", ErrInvalidOption, err)
	}
	return fields, params, nil
}

// alreadyEncrypted is the problem of a value given to encrypt that already
// has the form of a ciphertext (rsaenc.IsCiphertext).
const alreadyEncrypted = "the value is already a ciphertext (base64 of an RSA block); a value encrypted by hand is sent without encrypt, with the Wechatpay-Serial header of the key it was encrypted for"

// encryptFields returns a copy of body in which the string at each path is
// replaced by its RSA-OAEP encryption under key. Each path must name one
// string field by plain keys and indexes, and no field may be named twice.
// The value is replaced in the very bytes gjson read it from, and every
// path is read back from the result: a body in which a named field does not
// hold its ciphertext is an error, never sent.
func encryptFields(body []byte, paths []string, key *rsa.PublicKey) ([]byte, error) {
	fields, err := locateFields(body, paths, "encrypt")
	if err != nil {
		return nil, err
	}
	for i := range fields {
		fields[i].plain = fields[i].text
		if rsaenc.IsCiphertext(fields[i].plain) {
			return nil, fmt.Errorf("%w: encrypt %q: %s", ErrInvalidOption, fields[i].path, alreadyEncrypted)
		}
		ct, err := rsaenc.Encrypt(key, fields[i].plain)
		if err != nil {
			return nil, fmt.Errorf("%w: encrypt %q: %v", ErrInvalidOption, fields[i].path, err)
		}
		fields[i].cipher = ct
	}
	out := spliceFields(body, fields, func(f encField) string { return `"` + f.cipher + `"` }) // base64 needs no JSON escaping
	if err := checkEncrypted(out, fields); err != nil {
		return nil, err
	}
	return out, nil
}

// locateFields finds the string field at each path of body, for verb
// ("encrypt", "decrypt"): each path must name one non-empty string by
// plain keys and indexes, locatable in the body's bytes, and no field may
// be named twice. The string read is in text.
func locateFields(body []byte, paths []string, verb string) ([]encField, error) {
	if k, dup := duplicateKey(gjson.ParseBytes(body)); dup {
		return nil, fmt.Errorf("%w: %s: json has the key %q twice in one object; which one WeChat Pay reads is not certain, so neither is %sed", ErrInvalidOption, verb, k, verb)
	}
	fields := make([]encField, 0, len(paths))
	byOffset := make(map[int]string, len(paths))
	for _, path := range paths {
		if err := checkEncryptPath(path); err != nil {
			return nil, err
		}
		r := gjson.GetBytes(body, path)
		switch {
		case !r.Exists():
			return nil, fmt.Errorf("%w: %s: json has no value at %q", ErrInvalidOption, verb, path)
		case r.Type != gjson.String:
			return nil, fmt.Errorf("%w: %s: value at %q is a %s, want a string", ErrInvalidOption, verb, path, r.Type)
		case r.Str == "":
			return nil, fmt.Errorf("%w: %s: value at %q is empty", ErrInvalidOption, verb, path)
		case r.Index <= 0 || r.Index+len(r.Raw) > len(body) || string(body[r.Index:r.Index+len(r.Raw)]) != r.Raw:
			return nil, fmt.Errorf("%w: %s %q: the value read cannot be located in the body; %s", ErrInvalidOption, verb, path, encryptPathHelp)
		}
		if other, dup := byOffset[r.Index]; dup {
			return nil, fmt.Errorf("%w: %s names one field twice (%q and %q): it would be %sed twice", ErrInvalidOption, verb, other, path, verb)
		}
		byOffset[r.Index] = path
		fields = append(fields, encField{path: path, at: r.Index, raw: r.Raw, text: r.Str})
	}
	return fields, nil
}

// spliceFields returns a new body in which the raw value of each field is
// replaced by the JSON value repl gives it, front to back: the caller's
// bytes are never edited.
func spliceFields(body []byte, fields []encField, repl func(encField) string) []byte {
	sorted := append([]encField(nil), fields...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].at < sorted[j].at })
	vals := make([]string, len(sorted))
	size := len(body)
	for i, f := range sorted {
		vals[i] = repl(f)
		size += len(vals[i]) - len(f.raw)
	}
	out := make([]byte, 0, size)
	last := 0
	for i, f := range sorted {
		out = append(out, body[last:f.at]...)
		out = append(out, vals[i]...)
		last = f.at + len(f.raw)
	}
	return append(out, body[last:]...)
}

// encField is a string field of a JSON body that is encrypted or
// decrypted in place.
type encField struct {
	path   string
	at     int    // offset of the value's raw JSON in the body
	raw    string // the value as it is in the body
	text   string // the string the body holds
	plain  string
	cipher string
}

// checkEncrypted is the final guard before a body with encrypted fields is
// sent: it must be JSON, and every named field must hold its ciphertext.
func checkEncrypted(body []byte, fields []encField) error {
	return checkReplaced(body, fields, "encrypt", "ciphertext, so nothing was sent",
		func(f encField) string { return f.cipher })
}

// checkReplaced checks that body is JSON and that the field at each path
// holds the string want gives it: its ciphertext after encrypt, its plain
// text after decrypt.
func checkReplaced(body []byte, fields []encField, verb, what string, want func(encField) string) error {
	if !gjson.ValidBytes(body) {
		return fmt.Errorf("%w: %s: the body is not valid JSON once its fields are replaced by their %s", ErrInvalidOption, verb, what)
	}
	for _, f := range fields {
		if r := gjson.GetBytes(body, f.path); r.Type != gjson.String || r.Str != want(f) {
			return fmt.Errorf("%w: %s %q: the field could not be replaced by its %s; %s", ErrInvalidOption, verb, f.path, what, encryptPathHelp)
		}
	}
	return nil
}

// encryptParams returns a copy of target whose query parameters names,
// given in the query option, have each value replaced by its RSA-OAEP
// encryption under key. The query option is the end of target
// (appendQuery); a parameter that is not in it (but in a full URL's own
// query) is an error, never sent in plain text.
func encryptParams(target []byte, opts Opts, names []string, key *rsa.PublicKey) ([]byte, error) {
	var vals url.Values
	if q, ok := option(opts, "query"); ok {
		vals, _ = queryValues(q) // appendQuery has checked it
	}
	given := vals.Encode()
	if !bytes.HasSuffix(target, []byte(given)) {
		return nil, fmt.Errorf("%w: encrypt: the query is not the query option's", ErrInvalidOption)
	}
	enc := make(url.Values, len(vals))
	maps.Copy(enc, vals) // the caller's url.Values is left alone
	for _, name := range names {
		vs, ok := vals[name]
		if !ok {
			return nil, fmt.Errorf("%w: encrypt: the sensitive query parameter %q is part of the URL; give it in the query option to have it encrypted", ErrInvalidOption, name)
		}
		cts := make([]string, len(vs))
		for i, v := range vs {
			if v == "" {
				return nil, fmt.Errorf("%w: encrypt: query parameter %q is empty", ErrInvalidOption, name)
			}
			if rsaenc.IsCiphertext(v) {
				return nil, fmt.Errorf("%w: encrypt query parameter %q: %s", ErrInvalidOption, name, alreadyEncrypted)
			}
			ct, err := rsaenc.Encrypt(key, v)
			if err != nil {
				return nil, fmt.Errorf("%w: encrypt query parameter %q: %v", ErrInvalidOption, name, err)
			}
			cts[i] = ct
		}
		enc[name] = cts
	}
	prefix := target[:len(target)-len(given)]
	out := make([]byte, 0, len(prefix)+len(given)+len(names)*400)
	out = append(out, prefix...)
	return append(out, enc.Encode()...), nil
}

// checkEncryptPath accepts the gjson paths whose meaning is plain: keys
// and array indexes joined by dots, each key made of letters, digits, '_'
// and '-' (or non-ASCII letters), each index a decimal number without
// leading zeros.
func checkEncryptPath(path string) error {
	bad := func() error {
		return fmt.Errorf("%w: encrypt %q: %s", ErrInvalidOption, path, encryptPathHelp)
	}
	if path == "" {
		return fmt.Errorf("%w: encrypt: empty path", ErrInvalidOption)
	}
	for _, seg := range strings.Split(path, ".") {
		if seg == "" || (len(seg) > 1 && seg[0] == '0' && allDigits(seg)) {
			return bad()
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c >= 0x80) {
				return bad()
			}
		}
	}
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// duplicateKey reports a key that appears twice in one object anywhere in
// r: gjson reads the first, most JSON readers keep the last.
func duplicateKey(r gjson.Result) (string, bool) {
	var dupKey string
	var found bool
	if r.IsObject() {
		seen := map[string]bool{}
		r.ForEach(func(k, v gjson.Result) bool {
			if seen[k.Str] {
				dupKey, found = k.Str, true
				return false
			}
			seen[k.Str] = true
			dupKey, found = duplicateKey(v)
			return !found
		})
	} else if r.IsArray() {
		r.ForEach(func(_, v gjson.Result) bool {
			dupKey, found = duplicateKey(v)
			return !found
		})
	}
	return dupKey, found
}

func encryptPaths(v any) ([]string, error) {
	switch p := v.(type) {
	case string:
		if p == "" {
			return nil, nil
		}
		return []string{p}, nil
	case []string:
		return p, nil
	case []any:
		out := make([]string, 0, len(p))
		for _, x := range p {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%w: encrypt holds a %T, want gjson paths as strings", ErrInvalidOption, x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: encrypt is %T, want []string", ErrInvalidOption, v)
}

// encryptionKey returns the WeChat Pay key sensitive fields are encrypted
// with: the one named by serial if given, else the one chooseKey picks.
func (c *Client) encryptionKey(serial string) (string, *rsa.PublicKey, error) {
	if serial != "" {
		k, ok := c.verifier.Key(serial)
		if !ok {
			return "", nil, fmt.Errorf("%w: Wechatpay-Serial %q is not one of the configured WeChat Pay keys (%s)", ErrInvalidOption, serial, strings.Join(c.verifier.Serials(), ", "))
		}
		return serial, k, nil
	}
	keys := c.verifier.TrustedKeys()
	serial, err := chooseKey(keys, c.now())
	if err != nil {
		return "", nil, err
	}
	return serial, keys[serial].PublicKey, nil
}

// chooseKey picks, among the trusted keys, the one WeChat Pay expects
// sensitive fields to be encrypted with at now:
//
//  1. the WeChat Pay public key (PUB_KEY_ID_...), if one is configured;
//  2. else the platform certificate in force (NotBefore <= now < NotAfter)
//     that took effect last; a certificate whose dates are known and in
//     force comes before one whose dates are not, as the dates come from
//     WeChat Pay's own certificate list;
//  3. else the only certificate whose dates are not known.
//
// Several public keys, two certificates in force that took effect at the
// same moment, several undated certificates and no key in force at all are
// errors that ask for the serial to be named.
func chooseKey(keys map[string]verifier.TrustedKey, now time.Time) (string, error) {
	var pub, inForce, undated, outOfForce []string
	for s, k := range keys {
		switch {
		case strings.HasPrefix(s, "PUB_KEY_ID_"):
			pub = append(pub, s)
		case !k.Dated():
			undated = append(undated, s)
		case k.InForce(now):
			inForce = append(inForce, s)
		default:
			outOfForce = append(outOfForce, s)
		}
	}
	sort.Strings(pub)
	sort.Strings(undated)
	sort.Strings(outOfForce)
	name := "; name the one to encrypt with in the Wechatpay-Serial header"
	switch {
	case len(pub) == 1:
		return pub[0], nil
	case len(pub) > 1:
		return "", fmt.Errorf("%w: %d WeChat Pay public keys are configured (%s)%s", ErrInvalidOption, len(pub), strings.Join(pub, ", "), name)
	case len(inForce) > 0:
		// Latest NotBefore first; an open start counts as the earliest.
		sort.Slice(inForce, func(i, j int) bool {
			a, b := keys[inForce[i]].NotBefore, keys[inForce[j]].NotBefore
			if !a.Equal(b) {
				return a.After(b)
			}
			return inForce[i] < inForce[j]
		})
		if len(inForce) > 1 && keys[inForce[0]].NotBefore.Equal(keys[inForce[1]].NotBefore) {
			return "", fmt.Errorf("%w: WeChat Pay platform certificates %s and %s both took effect at %s, so neither is the newest%s",
				ErrInvalidOption, inForce[0], inForce[1], keys[inForce[0]].NotBefore.Format(time.RFC3339), name)
		}
		return inForce[0], nil
	case len(undated) == 1:
		return undated[0], nil
	case len(undated) > 1:
		return "", fmt.Errorf("%w: %d WeChat Pay certificates are configured without their validity dates (%s), so which is the newest is not known%s, or let a CertificateRefresher learn their dates",
			ErrInvalidOption, len(undated), strings.Join(undated, ", "), name)
	case len(outOfForce) > 0:
		var b strings.Builder
		for i, s := range outOfForce {
			if i > 0 {
				b.WriteString(", ")
			}
			k := keys[s]
			fmt.Fprintf(&b, "%s valid from %s to %s", s, k.NotBefore.Format(time.RFC3339), k.NotAfter.Format(time.RFC3339))
		}
		return "", fmt.Errorf("%w: no WeChat Pay key is in force at %s (%s)%s", ErrInvalidOption, now.Format(time.RFC3339), b.String(), name)
	}
	return "", fmt.Errorf("%w: no WeChat Pay key is configured to encrypt with", ErrInvalidOption)
}

// Encrypt encrypts a sensitive value (a bank account, a name) for WeChat
// Pay with RSA-OAEP under the key named by serial, or, when serial is
// empty, under the key WeChat Pay expects: the WeChat Pay public key
// (PUB_KEY_ID_...) if one is configured; else the platform certificate in
// force that took effect last (the certificates a CertificateRefresher
// added, or dated with Verifier.SetTrustedKeys, carry their validity
// period, and one whose dates are known comes before one whose dates are
// not); else the only certificate. When that leaves no single key (two
// public keys, two certificates of the same age, two undated ones), it
// returns an error asking for the serial. It returns the base64 ciphertext
// and the serial to send in the Wechatpay-Serial header. The encrypt option
// of a call does this for you.
func (c *Client) Encrypt(plaintext, serial string) (ciphertext, usedSerial string, err error) {
	usedSerial, k, err := c.encryptionKey(serial)
	if err != nil {
		return "", "", err
	}
	ciphertext, err = rsaenc.Encrypt(k, plaintext)
	return ciphertext, usedSerial, err
}

// Decrypt decrypts a sensitive response field that WeChat Pay encrypted
// with the merchant's public key (RSA-OAEP). It needs Config.PrivateKey to be
// an *rsa.PrivateKey; with another crypto.Signer it returns an error
// wrapping ErrInvalidConfig.
func (c *Client) Decrypt(ciphertext string) (string, error) {
	if c.merchant == nil {
		return "", fmt.Errorf("%w: Decrypt needs Config.PrivateKey to be an *rsa.PrivateKey, not a remote signer", ErrInvalidConfig)
	}
	return rsaenc.Decrypt(c.merchant, ciphertext)
}
