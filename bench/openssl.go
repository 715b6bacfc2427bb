package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
)

// What OpenSSL says about itself and the CPU, for the machine line.

// ifmaInfo says whether the CPU has AVX-512 IFMA and whether OpenSSL uses
// it for RSA.
type ifmaInfo struct {
	Known  bool // false where /proc/cpuinfo cannot tell (not Linux, not amd64)
	CPU    bool // avx512ifma among the CPU flags
	Used   bool
	Env    string // OPENSSL_ia32cap
	EnvSet bool
	Why    string // why not used although the CPU has it
}

// ia32capIFMA is the AVX512IFMA bit of the second word of OPENSSL_ia32cap
// (CPUID leaf 7, EBX bit 21). OPENSSL_ia32cap=":~0x200000" clears it, so
// that OpenSSL takes its older RSA code path.
const ia32capIFMA = 1 << 21

// ifmaUsed tells whether OpenSSL uses IFMA, given the CPU flag, the
// OPENSSL_ia32cap setting, and the major version of libcrypto (0 if
// unknown). It follows OpenSSL's reading of the variable: the part after
// the first ':' sets the second capability word, or with a leading '~'
// clears the bits it names from what the CPU reports.
func ifmaUsed(cpu bool, env string, envSet bool, major int) (used bool, why string) {
	if !cpu {
		return false, ""
	}
	if major != 0 && major < 3 {
		return false, "libcrypto before 3.0 has no IFMA code for RSA"
	}
	if !envSet {
		return true, ""
	}
	_, word2, ok := strings.Cut(env, ":")
	if !ok {
		return true, "" // only the first word is set
	}
	if mask, ok := strings.CutPrefix(word2, "~"); ok {
		if opensslUint(mask)&ia32capIFMA != 0 {
			return false, "OPENSSL_ia32cap masks it"
		}
		return true, ""
	}
	if opensslUint(word2)&ia32capIFMA == 0 {
		return false, "OPENSSL_ia32cap sets the word without it"
	}
	return true, ""
}

// opensslUint reads a number the way OpenSSL reads OPENSSL_ia32cap: 0x for
// hexadecimal, a leading 0 for octal, decimal otherwise, up to the first
// character that is not a digit.
func opensslUint(s string) uint64 {
	base := uint64(10)
	if strings.HasPrefix(s, "0") {
		base, s = 8, s[1:]
		if len(s) > 0 && (s[0] == 'x' || s[0] == 'X') {
			base, s = 16, s[1:]
		}
	}
	var n uint64
	for _, c := range s {
		var d uint64
		switch {
		case c >= '0' && c <= '9':
			d = uint64(c - '0')
		case c >= 'a' && c <= 'f':
			d = uint64(c-'a') + 10
		case c >= 'A' && c <= 'F':
			d = uint64(c-'A') + 10
		default:
			return n
		}
		if d >= base {
			return n
		}
		n = n*base + d
	}
	return n
}

// speedResult is the RSA-2048 line of `openssl speed rsa2048`.
type speedResult struct {
	Sign, Verify time.Duration
	SignsPerSec  float64
}

var speedRow = regexp.MustCompile(`(?m)^rsa\s+2048\s+bits\s+(.*)$`)

// parseSpeed reads the RSA-2048 row of `openssl speed rsa2048`, whose
// columns are named by the line above it: "sign verify sign/s verify/s"
// (OpenSSL 3.0 and 3.1), with encrypt and decrypt columns in later
// versions.
func parseSpeed(out string) (speedResult, error) {
	m := speedRow.FindStringSubmatchIndex(out)
	if m == nil {
		return speedResult{}, fmt.Errorf("no rsa 2048 bits line in the output of openssl speed")
	}
	head := out[:m[0]]
	head = strings.TrimRight(head, "\n")
	head = head[strings.LastIndexByte(head, '\n')+1:]
	names := strings.Fields(head)
	values := strings.Fields(out[m[2]:m[3]])
	var r speedResult
	var have int
	for i, name := range names {
		if i >= len(values) {
			break
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(values[i], "s"), 64)
		if err != nil {
			return speedResult{}, fmt.Errorf("openssl speed: column %s: %q is not a number", name, values[i])
		}
		switch name {
		case "sign":
			r.Sign, have = time.Duration(v*float64(time.Second)), have|1
		case "verify":
			r.Verify = time.Duration(v * float64(time.Second))
		case "sign/s":
			r.SignsPerSec, have = v, have|2
		}
	}
	if have != 3 {
		return speedResult{}, fmt.Errorf("openssl speed: no sign and sign/s columns in %q", head)
	}
	return r, nil
}

var majorRe = regexp.MustCompile(`OpenSSL (\d+)\.`)

// libMajorVersion returns the major version in an OpenSSL version text, or 0.
func libMajorVersion(s string) int {
	m := majorRe.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// libText turns the OpenSSL backend's description, "openssl (OpenSSL 3.0.13
// 30 Jan 2024, libcrypto.so.3, FIPS mode off)", into "OpenSSL 3.0.13 30 Jan
// 2024 (PATH, FIPS mode off)", with the library's name replaced by path, the
// file loaded, when known.
func libText(desc, path string) string {
	desc = strings.TrimSuffix(strings.TrimPrefix(desc, rsabackend.OpenSSL+" ("), ")")
	version, rest, ok := strings.Cut(desc, ", ")
	if !ok {
		return desc
	}
	if lib, fips, ok := strings.Cut(rest, ", "); ok && path != "" && strings.HasPrefix(lib, "libcrypto") {
		rest = path + ", " + fips
	}
	return version + " (" + rest + ")"
}

// opensslCLI returns `openssl version` and the result of `openssl speed
// -seconds 1 rsa2048` (about 2 to 4 seconds), or why they are missing.
func opensslCLI() (version string, sp speedResult, spErr string) {
	path, err := exec.LookPath("openssl")
	if err != nil {
		return "not installed (no openssl in PATH)", sp, "openssl CLI not installed"
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version").Output()
	version = strings.TrimSpace(string(out))
	if err != nil {
		version = "`openssl version` failed: " + err.Error()
	}
	out, err = exec.CommandContext(ctx, path, "speed", "-seconds", "1", "rsa2048").CombinedOutput()
	if err != nil {
		return version, sp, "openssl speed failed: " + err.Error()
	}
	sp, err = parseSpeed(string(out))
	if err != nil {
		return version, sp, err.Error()
	}
	return version, sp, ""
}
