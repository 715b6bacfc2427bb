package main

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// result is what one client run measured, printed by the child as one JSON
// line and read by the driver.
type result struct {
	Client  string `json:"client"`
	Setup   string `json:"setup"`
	Conc    int    `json:"conc"`
	Body    int    `json:"body"`
	Seconds float64
	// OK counts accepted and verified calls, Errors the others.
	OK, Errors int64
	FirstError string `json:",omitempty"`
	// CPUus is the client process's user+system CPU per call (OK and
	// failed alike), in microseconds, from getrusage(RUSAGE_SELF).
	CPUus, UserUs, SysUs float64
	// Allocs and Bytes are heap allocations per call from
	// runtime.MemStats (Mallocs, TotalAlloc), the whole process.
	Allocs, Bytes float64
	// P50us and P99us are call latencies.
	P50us, P99us float64
	// EmuCPUus is the emulator process's CPU per call and EmuUtil its CPU
	// time over wall time (1.0 = one core busy), from /proc/PID/stat; both
	// are -1 when not known.
	EmuCPUus, EmuUtil float64
	// Load1 is the one-minute load average when the run ended: other work
	// on the machine shows here.
	Load1 float64
}

// cpuTime returns the user and system CPU time of this process.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, 0
	}
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// procCPU returns the user+system CPU time of process pid from
// /proc/PID/stat, or -1 when it cannot be read (pid 0, not Linux).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return -1
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14, stime 15.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const clkTck = 100 // USER_HZ on every Linux architecture Go supports
	return time.Duration(ut+st) * time.Second / clkTck
}

// loadAvg returns the one-minute load average, or -1.
func loadAvg() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}

// worker is the state of one load goroutine, allocated before the
// measured window so that the window's allocation count is the client's.
type worker struct {
	lat   []uint32 // microseconds, up to cap
	ok    int64
	errs  int64
	first error
	_     [64]byte // keep workers' counters on separate cache lines
}

// runLoad calls c from conc goroutines: first for warm (connections are
// opened, pools filled), then for d, measured.
func runLoad(c caller, conc int, warm, d time.Duration, emuPID int) result {
	ctx := context.Background()
	loop := func(ws []*worker, stop *atomic.Bool, record bool) {
		var wg sync.WaitGroup
		for _, w := range ws {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for !stop.Load() {
					t0 := time.Now()
					err := c.call(ctx)
					if !record {
						continue
					}
					if err != nil {
						w.errs++
						if w.first == nil {
							w.first = err
						}
						continue
					}
					w.ok++
					if len(w.lat) < cap(w.lat) {
						w.lat = append(w.lat, uint32(time.Since(t0)/time.Microsecond))
					}
				}
			}()
		}
		wg.Wait()
	}
	perWorker := max(4096, (1<<20)/conc)
	ws := make([]*worker, conc)
	for i := range ws {
		ws[i] = &worker{lat: make([]uint32, 0, perWorker)}
	}

	if warm > 0 {
		var stop atomic.Bool
		time.AfterFunc(warm, func() { stop.Store(true) })
		loop(ws, &stop, false)
	}
	runtime.GC()

	var stop atomic.Bool
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	emu0 := procCPU(emuPID)
	u0, s0 := cpuTime()
	t0 := time.Now()
	time.AfterFunc(d, func() { stop.Store(true) })
	loop(ws, &stop, true)
	wall := time.Since(t0)
	u1, s1 := cpuTime()
	emu1 := procCPU(emuPID)
	runtime.ReadMemStats(&ms1)

	r := result{Conc: conc, Seconds: wall.Seconds(), EmuCPUus: -1, EmuUtil: -1, Load1: loadAvg()}
	var lat []uint32
	for _, w := range ws {
		r.OK += w.ok
		r.Errors += w.errs
		if w.first != nil && r.FirstError == "" {
			r.FirstError = w.first.Error()
		}
		lat = append(lat, w.lat...)
	}
	n := float64(r.OK + r.Errors)
	if n == 0 {
		return r
	}
	r.UserUs = float64((u1-u0)/time.Nanosecond) / 1e3 / n
	r.SysUs = float64((s1-s0)/time.Nanosecond) / 1e3 / n
	r.CPUus = r.UserUs + r.SysUs
	r.Allocs = float64(ms1.Mallocs-ms0.Mallocs) / n
	r.Bytes = float64(ms1.TotalAlloc-ms0.TotalAlloc) / n
	if emu0 >= 0 && emu1 >= 0 {
		r.EmuCPUus = float64((emu1-emu0)/time.Nanosecond) / 1e3 / n
		r.EmuUtil = (emu1 - emu0).Seconds() / wall.Seconds()
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50us = float64(lat[len(lat)*50/100])
		r.P99us = float64(lat[min(len(lat)-1, len(lat)*99/100)])
	}
	return r
}
