package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseCPUInfo(t *testing.T) {
	data := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f avx512ifma\n\n" +
		"processor\t: 1\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu\n"
	ci := parseCPUInfo(data)
	if ci.model != "AMD EPYC 9R14" || ci.count != 2 || !ci.flags["avx512ifma"] || ci.flags["sha_ni"] {
		t.Errorf("parseCPUInfo = %+v, want AMD EPYC 9R14, 2 processors, avx512ifma", ci)
	}
	if parseCPUInfo("processor\t: 0\nflags\t\t: fpu avx2\n").flags["avx512ifma"] {
		t.Error("parseCPUInfo: avx512ifma found in flags without it")
	}
}

// The machine line names each thing the figures depend on.
func TestMachineLine(t *testing.T) {
	m := machineInfo{
		Date: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC), Commit: "b64c571abcde",
		CPUModel: "AMD EPYC", CPUs: 2, NProc: 2, GOMAXPROCS: 2, Go: "go1.26.8 linux/amd64",
		LibCrypto: "OpenSSL 3.0.19 27 Jan 2026 (libcrypto.so.3, FIPS mode off)", CLI: "OpenSSL 3.0.19 27 Jan 2026 (Library: OpenSSL 3.0.19 27 Jan 2026)",
		IFMA:    ifmaInfo{Known: true, CPU: true, Used: false, Env: ":~0x200000", EnvSet: true, Why: "OPENSSL_ia32cap masks it"},
		Speed:   speedResult{Sign: 578 * time.Microsecond, Verify: 16 * time.Microsecond, SignsPerSec: 1730},
		SignLib: 600 * time.Microsecond, SignGo: 1200 * time.Microsecond,
	}
	line := m.line()
	for _, want := range []string{
		"AMD EPYC", "nproc 2, GOMAXPROCS 2", "libcrypto OpenSSL 3.0.19", "openssl CLI OpenSSL 3.0.19",
		"IFMA: cpu yes, used by OpenSSL no (OPENSSL_ia32cap masks it; OPENSSL_ia32cap=:~0x200000)",
		"go1.26.8", "rsa2048` 0.578 ms (1730/s)", "in process (CPU time per sign): libcrypto 0.600 ms", "crypto/rsa 1.200 ms (crypto/rsa = 2.00 x libcrypto)",
		"2026-11-24", "commit b64c571abcde",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("machine line %q\nlacks %q", line, want)
		}
	}
	m.SpeedErr, m.CLI = "openssl CLI not installed", "not installed (no openssl in PATH)"
	if line := m.line(); !strings.Contains(line, "openssl speed: openssl CLI not installed") || !strings.Contains(line, "libcrypto 0.600 ms") {
		t.Errorf("machine line without the CLI = %q, want it to say so and give the in-process time", line)
	}
}
