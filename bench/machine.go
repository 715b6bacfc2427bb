package main

import (
	"bufio"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
)

// A run's figures hold for the machine that made them: a call's cost is
// mostly one RSA-2048 signature, whose speed depends on the CPU (above all
// on whether it has AVX-512 IFMA, which OpenSSL 3 uses for RSA-2048) and on
// the OpenSSL build. machineInfo is what the report says about the machine.
type machineInfo struct {
	Date       time.Time
	Commit     string // short hash, "+dirty" with uncommitted changes, or why unknown
	CPUModel   string // "model name" of /proc/cpuinfo
	CPUs       int    // processors listed in /proc/cpuinfo, 0 if unknown
	NProc      int    // processors this process may use (nproc)
	GOMAXPROCS int
	Go         string
	LibCrypto  string // what the OpenSSL backend loaded, or why nothing
	libMajor   int    // major version of LibCrypto, 0 if unknown
	CLI        string // `openssl version`, or why none
	IFMA       ifmaInfo
	// Speed is `openssl speed -seconds 1 rsa2048`; SpeedErr says why it
	// is missing.
	Speed    speedResult
	SpeedErr string
	// SignLib and SignGo are the in-process RSA-2048 sign times (SHA-256
	// digest given) of libcrypto through internal/rsabackend and of
	// crypto/rsa; SignLibErr says why SignLib is missing.
	SignLib, SignGo time.Duration
	SignLibErr      string
}

// cpuInfo is what /proc/cpuinfo says.
type cpuInfo struct {
	model string
	count int
	flags map[string]bool
}

// parseCPUInfo reads the model name and flags of the first processor and
// counts the processors.
func parseCPUInfo(data string) cpuInfo {
	ci := cpuInfo{flags: map[string]bool{}}
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case k == "processor":
			ci.count++
		case k == "model name" && ci.model == "":
			ci.model = v
		case (k == "flags" || k == "Features") && len(ci.flags) == 0:
			for _, f := range strings.Fields(v) {
				ci.flags[f] = true
			}
		}
	}
	return ci
}

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

// loadedLib returns the file of the shared library whose name starts with
// prefix that this process has mapped, from /proc/self/maps, or "".
func loadedLib(prefix string) string {
	data, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 {
			continue
		}
		path := f[len(f)-1]
		if base := path[strings.LastIndexByte(path, '/')+1:]; strings.HasPrefix(base, prefix) {
			return path
		}
	}
	return ""
}

// perOp runs f repeatedly for about d after one call, and returns the
// time per call.
func perOp(d time.Duration, f func() error) (time.Duration, error) {
	if err := f(); err != nil {
		return 0, err
	}
	n, t0 := 0, time.Now()
	for time.Since(t0) < d {
		if err := f(); err != nil {
			return 0, err
		}
		n++
	}
	return time.Since(t0) / time.Duration(n), nil
}

// signTimes measures one RSA-2048 signature with libcrypto (through
// internal/rsabackend, as the OpenSSL backend signs) and with crypto/rsa.
func signTimes(m *machineInfo, priv *rsa.PrivateKey) {
	d := sha256.Sum256([]byte("POST\n/" + callPath + "\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{}\n"))
	priv.Precompute()
	m.SignGo, _ = perOp(300*time.Millisecond, func() error {
		_, err := rsa.SignPKCS1v15(nil, priv, crypto.SHA256, d[:])
		return err
	})
	if err := rsabackend.Use(rsabackend.OpenSSL); err != nil {
		m.SignLibErr = err.Error()
		return
	}
	sk, err := rsabackend.NewSigningKey(priv)
	if err == nil {
		m.SignLib, err = perOp(300*time.Millisecond, func() error {
			_, err := sk.SignSHA256(d[:])
			return err
		})
	}
	if err != nil {
		m.SignLibErr = err.Error()
	}
}

// gatherMachine describes this machine, measuring the sign times with
// priv (nil: not measured).
func gatherMachine(priv *rsa.PrivateKey) machineInfo {
	m := machineInfo{Date: time.Now(), NProc: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH, CPUModel: "unknown"}
	m.Commit = gitCommit()
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		ci := parseCPUInfo(string(data))
		if ci.model != "" {
			m.CPUModel = ci.model
		}
		m.CPUs = ci.count
		m.IFMA.Known = runtime.GOARCH == "amd64" || runtime.GOARCH == "386"
		m.IFMA.CPU = ci.flags["avx512ifma"]
	}
	if err := rsabackend.Available(); err != nil {
		m.LibCrypto = err.Error()
	} else if err := rsabackend.Use(rsabackend.OpenSSL); err != nil {
		m.LibCrypto = err.Error()
	} else {
		desc := libText(rsabackend.Description(), loadedLib("libcrypto"))
		m.LibCrypto, m.libMajor = desc, libMajorVersion(desc)
	}
	m.IFMA.Env, m.IFMA.EnvSet = os.LookupEnv("OPENSSL_ia32cap")
	m.IFMA.Used, m.IFMA.Why = ifmaUsed(m.IFMA.CPU, m.IFMA.Env, m.IFMA.EnvSet, m.libMajor)
	m.CLI, m.Speed, m.SpeedErr = opensslCLI()
	if priv != nil {
		signTimes(&m, priv)
	}
	return m
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

// gitCommit returns the short hash of the checkout the bench runs from,
// with "+dirty" when it has uncommitted changes.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown (git rev-parse failed)"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "+dirty"
	}
	return c
}

// ifmaText is the IFMA part of the machine line.
func (m machineInfo) ifmaText() string {
	if !m.IFMA.Known {
		return "IFMA: unknown (no x86 /proc/cpuinfo)"
	}
	env := "OPENSSL_ia32cap unset"
	if m.IFMA.EnvSet {
		env = "OPENSSL_ia32cap=" + m.IFMA.Env
	}
	if m.IFMA.Why != "" {
		env = m.IFMA.Why + "; " + env
	}
	return fmt.Sprintf("IFMA: cpu %s, used by OpenSSL %s (%s)", yesNo(m.IFMA.CPU), yesNo(m.IFMA.Used), env)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func msText(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// signText is the sign-time part of the machine line.
func (m machineInfo) signText() string {
	speed := "openssl speed: " + m.SpeedErr
	if m.SpeedErr == "" {
		speed = fmt.Sprintf("`openssl speed -seconds 1 rsa2048` %s (%.0f/s), verify %s", msText(m.Speed.Sign), m.Speed.SignsPerSec, msText(m.Speed.Verify))
	}
	lib := "libcrypto not measured: " + m.SignLibErr
	if m.SignLibErr == "" && m.SignLib > 0 {
		lib = "libcrypto in-process " + msText(m.SignLib)
	}
	s := "RSA-2048 sign: " + speed + "; " + lib
	if m.SignGo > 0 {
		s += ", crypto/rsa " + msText(m.SignGo)
		if m.SignLibErr == "" && m.SignLib > 0 {
			s += fmt.Sprintf(" (crypto/rsa = %.2f x libcrypto)", float64(m.SignGo)/float64(m.SignLib))
		}
	}
	return s
}

// line is the machine line: one line that a table of results is shown
// with.
func (m machineInfo) line() string {
	cores := fmt.Sprintf("nproc %d, GOMAXPROCS %d", m.NProc, m.GOMAXPROCS)
	if m.CPUs != 0 && m.CPUs != m.NProc {
		cores += fmt.Sprintf(" (%d processors in /proc/cpuinfo)", m.CPUs)
	}
	return strings.Join([]string{
		m.CPUModel + ", " + cores,
		"libcrypto " + m.LibCrypto,
		"openssl CLI " + m.CLI,
		m.ifmaText(),
		m.Go,
		m.signText(),
		m.Date.Format("2006-01-02 15:04 MST"),
		"commit " + m.Commit,
	}, "; ")
}

// title names the machine in a heading.
func (m machineInfo) title() string {
	t := fmt.Sprintf("%s, %d cores", m.CPUModel, m.NProc)
	if m.IFMA.Known {
		t += ", AVX-512 IFMA " + map[bool]string{true: "used", false: "not used"}[m.IFMA.Used]
	}
	return t + " (" + m.Date.Format("2006-01-02") + ")"
}
