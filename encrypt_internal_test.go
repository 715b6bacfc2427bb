package wxpay

import (
	"errors"
	"testing"
)

// checkEncrypted is the guard behind every body with encrypted fields: it
// refuses one in which a named field does not hold its ciphertext, whatever
// the path, even one the path check would have let through.
func TestCheckEncryptedIsTheFinalGuard(t *testing.T) {
	body := []byte(`{"bank_account":"6222020200001234","payee":{"account":"CT"}}`)
	for _, tc := range []struct {
		body []byte
		f    encField
		ok   bool
	}{
		{body, encField{path: "payee.account", cipher: "CT"}, true},
		{body, encField{path: "bank_account", cipher: "CT"}, false},       // still plain
		{body, encField{path: "@this.bank_account", cipher: "CT"}, false}, // read, never written
		{body, encField{path: "payee|account", cipher: "CT"}, true},       // a pipe that does read the ciphertext
		{body, encField{path: "payee.account", cipher: "CT2"}, false},
		{body, encField{path: "nowhere", cipher: "CT"}, false},
		{[]byte(`{"payee":{"account":"CT"}`), encField{path: "payee.account", cipher: "CT"}, false}, // not JSON
	} {
		err := checkEncrypted(tc.body, []encField{tc.f})
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidOption)) {
			t.Errorf("checkEncrypted(%s, %q) = %v, want ok %v", tc.body, tc.f.path, err, tc.ok)
		}
	}
}

// The path check accepts plain keys and indexes, nothing gjson reads in
// another way.
func TestCheckEncryptPath(t *testing.T) {
	for _, p := range []string{"bank_account", "payee.account", "list.0.acct", "list.10.acct", "a-b", "名字", "0"} {
		if err := checkEncryptPath(p); err != nil {
			t.Errorf("checkEncryptPath(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", ".", "a.", ".a", "a..b", "a.01", "a.*", "a?", "a|b", "@this", "a.#", `a\.b`, "a b", "a:b", "a,b", "a\"b", "a=b", "(a)", "[a]", "{a}", "!true", "a~b", "a%b", "a\x00b"} {
		if err := checkEncryptPath(p); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("checkEncryptPath(%q) = %v, want ErrInvalidOption", p, err)
		}
	}
}
