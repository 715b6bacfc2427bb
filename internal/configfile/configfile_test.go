package configfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsKeyID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"PUB_KEY_ID_0114232134912410000000000000", true},
		{"5157F09EFDC096DE15EBE81A47057A7232F1B8E1", true}, // 40 hex digits, a platform certificate serial
		{"7132d72a03e93cddf8c03bbd1f37eedf", true},
		{"S1", true},
		{"", false},
		{"PUB KEY", false},
		{"key/../x", false},
		{"5157F09EFDC096DE15EBE81A47057A7232F1B8E1A", false},                        // 41 hex digits: no serial, and a long base64 run
		{"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo", false}, // a piece of a key
	} {
		if got := isKeyID(tt.id); got != tt.want {
			t.Errorf("isKeyID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestUnknownName(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"apiV3Key", `"apiV3Key" (did you mean "apiv3_key"?)`},
		{"privatekey", `"privatekey" (did you mean "private_key"?)`},
		{"frobnicate", `"frobnicate"`},
		{"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo", "(name not shown)"},
		{"AbCdEfGh", "(name not shown)"},
	} {
		if got := UnknownName(tt.name, JSONKeys); got != tt.want {
			t.Errorf("UnknownName(%q) = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestReadKeyFile: Read of a key or certificate file says what the file
// looks like, without its content; a config that fails to parse for
// another reason keeps its own message.
func TestReadKeyFile(t *testing.T) {
	dir := t.TempDir()
	body := "MIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyehkd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdgcKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbcmwIDAQAB"
	for _, tc := range []struct {
		name, content, want string
	}{
		{"private.pem", "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n", "the file looks like a PEM private key, not a config file"},
		{"rsa.pem", "\n-----BEGIN RSA PRIVATE KEY-----\n" + body + "\n-----END RSA PRIVATE KEY-----\n", "the file looks like a PEM private key, not a config file"},
		{"public.pem", "-----BEGIN PUBLIC KEY-----\n" + body + "\n-----END PUBLIC KEY-----\n", "the file looks like a PEM public key, not a config file"},
		{"cert.pem", "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n", "the file looks like a PEM certificate, not a config file"},
		{"other.pem", "-----BEGIN SECRET THING-----\n" + body + "\n-----END SECRET THING-----\n", "the file looks like a PEM file, not a config file"},
		{"body.txt", body + "\n", "the file looks like a key or certificate in base64, not a config file"},
		{"plain.env", "WXPAY_MCHID=1\njust text\n", "line 2: want KEY=VALUE"},
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path)
		var ce *Error
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Read(%s) = %v, want an *Error holding %q", tc.name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), body[:40]) || strings.Contains(err.Error(), "BEGIN") || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("Read(%s) = %v: shows the file's content", tc.name, err)
		}
	}
}
