package main

import (
	"bufio"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
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
	// SignLib and SignGo are the CPU time of one RSA-2048 signature (of a
	// SHA-256 digest) in process, with libcrypto through
	// internal/rsabackend and with crypto/rsa; SignLibErr says why SignLib
	// is missing.
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

// threadCPU returns the CPU time of the calling OS thread, or -1 where it
// cannot be read (RUSAGE_THREAD is Linux's).
func threadCPU() time.Duration {
	const rusageThread = 1
	if runtime.GOOS != "linux" {
		return -1
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perOp calls f once, then repeatedly until it has used about d of CPU,
// and returns the CPU time per call: like openssl speed, it counts the CPU
// the calls used, so other work on the machine changes it little. Where
// the thread's CPU time cannot be read it counts wall time instead.
func perOp(d time.Duration, f func() error) (time.Duration, error) {
	runtime.LockOSThread() // f runs on this thread, cgo calls included
	defer runtime.UnlockOSThread()
	if err := f(); err != nil {
		return 0, err
	}
	t0, c0 := time.Now(), threadCPU()
	for n := 1; ; n++ {
		if err := f(); err != nil {
			return 0, err
		}
		wall := time.Since(t0)
		if c0 < 0 {
			if wall >= d {
				return wall / time.Duration(n), nil
			}
		} else if cpu := threadCPU() - c0; cpu >= d || wall >= 20*d {
			return cpu / time.Duration(n), nil
		}
	}
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
	lib := "libcrypto not measured (" + m.SignLibErr + ")"
	if m.SignLibErr == "" && m.SignLib > 0 {
		lib = "libcrypto " + msText(m.SignLib)
	}
	s := "RSA-2048 sign: " + speed + "; in process (CPU time per sign): " + lib
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
