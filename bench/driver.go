package main

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wxpay-chain/wxpay/internal/rsabackend"
)

// driverConfig is what the driver runs.
type driverConfig struct {
	clients  []string
	concs    []int // concurrency scaling, at mainBody
	bodies   []int // body-size scaling, at mainC
	mainC    int
	mainBody int
	d, warm  time.Duration
	rounds   int
	jsonOut  string
	args     []string // the command-line arguments, for the report
}

// config is one concurrency and body size.
type config struct{ conc, body int }

func parseNames(s string) ([]string, error) {
	if s == "" {
		return clientNames, nil
	}
	var out []string
	for _, n := range strings.Split(s, ",") {
		n = strings.TrimSpace(n)
		ok := false
		for _, k := range clientNames {
			ok = ok || k == n
		}
		if !ok {
			return nil, fmt.Errorf("unknown client %q (want %s)", n, strings.Join(clientNames, ", "))
		}
		out = append(out, n)
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive numbers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// drive runs every client in every configuration and prints the report.
func drive(cfg driverConfig) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	keyDir, err := os.MkdirTemp("", "wxpay-bench-keys-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(keyDir)

	// The first emulator start generates the keys every later run uses.
	e, err := startEmulator(self, keyDir)
	if err != nil {
		return err
	}
	e.stop()

	// The machine line comes first, before the runs load the machine.
	var priv *rsa.PrivateKey
	if k, err := loadKeys(keyDir); err == nil {
		priv = k.merchant
	}
	header(os.Stdout, gatherMachine(priv))

	configs := []config{{cfg.mainC, cfg.mainBody}}
	for _, c := range cfg.concs {
		if c != cfg.mainC {
			configs = append(configs, config{c, cfg.mainBody})
		}
	}
	for _, b := range cfg.bodies {
		if b != cfg.mainBody {
			configs = append(configs, config{cfg.mainC, b})
		}
	}
	start := time.Now()
	load0 := loadAvg()
	runs := map[config]map[string][]result{}
	var all []result
	for round := 0; round < cfg.rounds; round++ {
		for _, c := range configs {
			if runs[c] == nil {
				runs[c] = map[string][]result{}
			}
			// Rotate the order of the clients from round to round, so
			// that a burst of other work on the machine does not always
			// fall on the same client.
			for i := range cfg.clients {
				name := cfg.clients[(i+round)%len(cfg.clients)]
				fmt.Fprintf(os.Stderr, "bench: round %d/%d %-13s c=%-3d body=%-5d ... ", round+1, cfg.rounds, name, c.conc, c.body)
				r, err := runOne(self, keyDir, name, c, cfg)
				if err != nil {
					r = result{Client: name, Conc: c.conc, Body: c.body, Errors: -1, FirstError: err.Error()}
					fmt.Fprintf(os.Stderr, "failed: %v\n", err)
				} else {
					fmt.Fprintf(os.Stderr, "%8.0f calls/s %7.0f µs CPU/call, %d errors\n", rate(r), r.CPUus, r.Errors)
				}
				runs[c][name] = append(runs[c][name], r)
				all = append(all, r)
			}
		}
	}
	results := map[config]map[string]result{}
	for c, m := range runs {
		results[c] = map[string]result{}
		for name, rs := range m {
			results[c][name] = median(rs)
		}
	}
	if cfg.jsonOut != "" {
		data, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(cfg.jsonOut, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	report(os.Stdout, cfg, configs, results, time.Since(start), load0)
	return nil
}

// emulator is a running emulator process.
type emulator struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
}

func startEmulator(self, keyDir string) (*emulator, error) {
	cmd := exec.Command(self, "-role", "emulator", "-dir", keyDir)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("emulator did not start: %v", err)
	}
	return &emulator{cmd: cmd, stdin: stdin, url: strings.TrimSpace(line)}, nil
}

// stop ends the emulator: closing its standard input makes it shut down.
func (e *emulator) stop() {
	e.stdin.Close()
	done := make(chan struct{})
	go func() { e.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		e.cmd.Process.Kill()
		<-done
	}
}

// runOne runs one client in a child process, against a fresh emulator
// process unless it is a crypto floor.
func runOne(self, keyDir, name string, c config, cfg driverConfig) (result, error) {
	args := []string{"-client", name, "-dir", keyDir, "-c", strconv.Itoa(c.conc),
		"-body-size", strconv.Itoa(c.body), "-d", cfg.d.String(), "-warmup", cfg.warm.String()}
	if !strings.HasPrefix(name, "floor-") {
		e, err := startEmulator(self, keyDir)
		if err != nil {
			return result{}, err
		}
		defer e.stop()
		args = append(args, "-url", e.url, "-emu-pid", strconv.Itoa(e.cmd.Process.Pid))
	}
	cmd := exec.Command(self, args...)
	cmd.Env = childEnv(name)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	var r result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return result{}, fmt.Errorf("child output: %v", err)
	}
	return r, nil
}

// childEnv sets WXPAY_CRYPTO for the wxpay clients and the floors.
func childEnv(name string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, rsabackend.EnvVar+"=") {
			env = append(env, kv)
		}
	}
	switch name {
	case "wxpay-openssl", "floor-openssl":
		env = append(env, rsabackend.EnvVar+"=openssl")
	case "wxpay-go", "floor-go":
		env = append(env, rsabackend.EnvVar+"=go")
	}
	return env
}

// median returns the run with the median calls/s (the lower middle one for
// an even count); a failed run counts as the slowest.
func median(rs []result) result {
	s := slices.Clone(rs)
	slices.SortFunc(s, func(a, b result) int { return cmp.Compare(rate(a), rate(b)) })
	return s[(len(s)-1)/2]
}
