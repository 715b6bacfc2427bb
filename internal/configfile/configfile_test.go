package configfile

import "testing"

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
