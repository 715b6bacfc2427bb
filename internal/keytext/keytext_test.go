package keytext

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsKeyText(t *testing.T) {
	der := append([]byte{0x30, 0x82, 0x01, 0x00}, make([]byte, 256)...)
	body := base64.StdEncoding.EncodeToString(der)
	short := base64.StdEncoding.EncodeToString([]byte{0x30, 0x03, 1, 2, 3})
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"apiclient_key.pem", false},
		{"/etc/wxpay/apiclient_key.pem", false},
		{`C:\wxpay\apiclient_key.pem`, false},
		{"MIIEvQIBADAN", false}, // base64 but not DER: a file name
		{"-----BEGIN PRIVATE KEY-----", true},
		{"a\nb", true},
		{"key.pem\r", true},
		{strings.Repeat("a", MaxPathLen), false},
		{strings.Repeat("a", MaxPathLen+1), true},
		{body, true},
		{strings.TrimRight(body, "="), true},
		{body[:64] + "\n  " + body[64:], true},
		{short, true},
		{body[:100], false}, // a DER length that does not match
	} {
		if got := IsKeyText(tc.s); got != tc.want {
			t.Errorf("IsKeyText(%.40q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestShowable(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", 20), "apiclient_key.pem") // directory missing
	hashDir := filepath.Join(dir, strings.Repeat("3f78", 10))                // a 40-character element
	if err := os.Mkdir(hashDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"apiclient_key.pem", true},
		{"/etc/wxpay/apiclient_key.pem", true},
		{"/home/deploy/wechatpay/certs/apiclient_key.pem", true},
		{filepath.Join(dir, "apiclient_key.pem"), true}, // a long run, but an existing directory
		{long, false},                      // a long run and no such directory
		{"", false},                        // nothing to show
		{"key.pem\n", false},               // control character
		{"-----BEGIN", false},              // PEM dashes
		{strings.Repeat("a/", 200), false}, // too long
		{"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIB", false},
		{"MIIEvg/IBADANBgkqhkiG9w0BAQEFAA/SCBKgwggSkAgEAAoIB", false}, // across '/', no such directory
		{strings.Repeat("x", 23) + ".pem", true},
		{strings.Repeat("x", 24) + ".pem", false},
		{"0123456789abcdefghijABCDEFGHIJ01", false},            // an APIv3 key in a key setting
		{"/etc/wxpay/0123456789abcdefghijABCDEFGHIJ01", false}, // the same in a directory
		{"MIIEvgIBADANBgkqhkiG9w0BAQEFAASC", false},            // a 32-character fragment of a key
		{"PUB_KEY_ID_0114232134912410000000000000.pem", true},  // named after a WeChat Pay public key id
		{"/etc/wxpay/PUB_KEY_ID_0114232134912410000000000000.key.pem", true},
		{"PUB_KEY_ID_0123456789abcdefghijABCDEFGHIJ01", false}, // not an id: letters
		{"PUB_KEY_ID_0114232134912410000000000000MIIEvgIBADANBgkqhkiG9w0BAQEFAASC", false},
		{"PUB_KEY_ID_01142321349124100000000000000123456789abcdefghij", false}, // an APIv3 key in digits and letters after an id
		{"xPUB_KEY_ID_0114232134912410000000000000.pem", true},
		{"PUB_KEY_ID_01142321349124/10000000000000000000000000000", false},
		{filepath.Join(hashDir, "apiclient_key.pem"), true},            // the long element is an existing directory
		{filepath.Join(hashDir, "x", "apiclient_key.pem"), false},      // ... in a directory that does not exist
		{filepath.Join(dir, strings.Repeat("3f78", 10)+".pem"), false}, // the long run is in the file name
	} {
		if got := Showable(tc.s); got != tc.want {
			t.Errorf("Showable(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}
