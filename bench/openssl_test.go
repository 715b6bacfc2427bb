package main

import (
	"testing"
	"time"
)

// The output of `openssl speed -seconds 1 rsa2048` by OpenSSL 3.0.19, and
// the table of a later version, which adds encrypt and decrypt columns.
const (
	speed30 = `Doing 2048 bits private rsa's for 1s: 4124 2048 bits private RSA's in 0.99s
Doing 2048 bits public rsa's for 1s: 59799 2048 bits public RSA's in 0.98s
version: 3.0.19
built on: Fri Apr  3 12:29:32 2026 UTC
options: bn(64,64)
CPUINFO: OPENSSL_ia32cap=0xfffa3203078bffff:0x405fc6f1bf07ab
                  sign    verify    sign/s verify/s
rsa 2048 bits 0.000240s 0.000016s   4165.7  61019.4
`
	speed35 = `version: 3.5.0
                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s
rsa   2048 bits 0.000580s 0.000017s 0.000018s 0.000593s   1724.0  58823.5  55555.6   1686.3
`
)

func TestParseSpeed(t *testing.T) {
	for _, tt := range []struct {
		name, out string
		want      speedResult
	}{
		{"3.0", speed30, speedResult{Sign: 240 * time.Microsecond, Verify: 16 * time.Microsecond, SignsPerSec: 4165.7}},
		{"3.5", speed35, speedResult{Sign: 580 * time.Microsecond, Verify: 17 * time.Microsecond, SignsPerSec: 1724.0}},
	} {
		got, err := parseSpeed(tt.out)
		if err != nil {
			t.Fatalf("%s: parseSpeed: %v", tt.name, err)
		}
		if got != tt.want {
			t.Errorf("%s: parseSpeed = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseSpeedRefusesOtherOutput(t *testing.T) {
	for _, out := range []string{
		"",
		"speed: Unknown algorithm rsa2048\n",
		"                  verify    verify/s\nrsa 2048 bits 0.000016s 61019.4\n",
		"                  sign    verify    sign/s verify/s\nrsa 2048 bits fast 0.000016s 4165.7 61019.4\n",
	} {
		if got, err := parseSpeed(out); err == nil {
			t.Errorf("parseSpeed(%q) = %+v, want an error", out, got)
		}
	}
}

func TestIFMAUsed(t *testing.T) {
	for _, tt := range []struct {
		cpu    bool
		env    string
		envSet bool
		major  int
		want   bool
	}{
		{cpu: false, major: 3, want: false},
		{cpu: true, major: 3, want: true},
		{cpu: true, major: 0, want: true}, // version unknown
		{cpu: true, major: 1, want: false},
		{cpu: true, env: ":~0x200000", envSet: true, major: 3, want: false},
		{cpu: true, env: "~0x0:~0x200000", envSet: true, major: 3, want: false},
		{cpu: true, env: ":~0x10", envSet: true, major: 3, want: true},            // masks another bit
		{cpu: true, env: ":~2097152", envSet: true, major: 3, want: false},        // decimal
		{cpu: true, env: ":0x405fc6f1bf07ab", envSet: true, major: 3, want: true}, // sets the word, bit 21 on
		{cpu: true, env: ":0x405fc6f19f07ab", envSet: true, major: 3, want: false},
		{cpu: true, env: ":", envSet: true, major: 3, want: false}, // sets the second word to 0
		{cpu: true, env: "0xfffa3203078bffff", envSet: true, major: 3, want: true},
		{cpu: true, env: "", envSet: true, major: 3, want: true},
		{cpu: false, env: ":0x200000", envSet: true, major: 3, want: false},
	} {
		got, why := ifmaUsed(tt.cpu, tt.env, tt.envSet, tt.major)
		if got != tt.want {
			t.Errorf("ifmaUsed(cpu %v, %q set %v, major %d) = %v (%q), want %v", tt.cpu, tt.env, tt.envSet, tt.major, got, why, tt.want)
		}
		if tt.cpu && !got && why == "" {
			t.Errorf("ifmaUsed(cpu %v, %q, major %d): not used and no reason", tt.cpu, tt.env, tt.major)
		}
	}
}

func TestOpenSSLUint(t *testing.T) {
	for in, want := range map[string]uint64{
		"0x200000": 0x200000, "0X1f": 31, "2097152": 2097152, "010": 8, "0": 0, "": 0,
		"0x10:0x20": 0x10, "12abc": 12, "09": 0,
	} {
		if got := opensslUint(in); got != want {
			t.Errorf("opensslUint(%q) = %#x, want %#x", in, got, want)
		}
	}
}

func TestLibMajorVersion(t *testing.T) {
	for in, want := range map[string]int{
		"OpenSSL 3.0.19 27 Jan 2026, libcrypto.so.3, FIPS mode off": 3,
		"OpenSSL 1.1.1w  11 Sep 2023":                               1,
		"no libcrypto found":                                        0,
	} {
		if got := libMajorVersion(in); got != want {
			t.Errorf("libMajorVersion(%q) = %d, want %d", in, got, want)
		}
	}
}

func TestLibText(t *testing.T) {
	desc := "openssl (OpenSSL 3.0.19 27 Jan 2026, libcrypto.so.3, FIPS mode off)"
	for path, want := range map[string]string{
		"/usr/lib/x86_64-linux-gnu/libcrypto.so.3": "OpenSSL 3.0.19 27 Jan 2026 (/usr/lib/x86_64-linux-gnu/libcrypto.so.3, FIPS mode off)",
		"": "OpenSSL 3.0.19 27 Jan 2026 (libcrypto.so.3, FIPS mode off)",
	} {
		if got := libText(desc, path); got != want {
			t.Errorf("libText(%q, %q) = %q, want %q", desc, path, got, want)
		}
	}
}
