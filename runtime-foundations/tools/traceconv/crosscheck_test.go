package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-release-lab/runtime-foundations/tools/traceconv/internal/conv"
)

// The cross-check: every Runnable -> Running transition traceconv writes must be one that
// `go tool trace -d=parsed` prints for the same file, and the other way round. -d=parsed
// (Go 1.24+) prints each event on a line starting "M=... StateTransition Time=T", with
// "GoID=G From->To" in it (1.24/1.25 put the transition last, 1.26+ before Reason=).
var parsedWait = regexp.MustCompile(`^M=\S+ P=\S+ G=\S+ StateTransition Time=(\d+) .*\bGoID=(\d+) Runnable->Running(?: |$)`)

// toolchain is a Go installation the cross-check can run.
type toolchain struct {
	goroot  string
	version string // "1.25.5"
	minor   int
}

func (tc toolchain) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(tc.goroot, "bin", "go"), args...)
	// The machine's settings pass through; the Go ones are this toolchain's.
	env := make([]string, 0, len(os.Environ())+5)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "GOROOT" && k != "GOTOOLCHAIN" && k != "GOFLAGS" && k != "GOWORK" && k != "PATH" {
			env = append(env, kv)
		}
	}
	env = append(env, "GOROOT="+tc.goroot, "GOTOOLCHAIN=local", "GOFLAGS=", "GOWORK=off",
		"PATH="+filepath.Join(tc.goroot, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Env = env
	return cmd
}

// toolchains finds the go on PATH and every GOROOT listed in TRACECONV_GOROOTS (a path
// list), so the traces of older toolchains can be checked with the toolchain that made them.
func toolchains(t *testing.T) []toolchain {
	t.Helper()
	var roots []string
	if p, err := exec.LookPath("go"); err == nil {
		if out, err := exec.Command(p, "env", "GOROOT").Output(); err == nil {
			roots = append(roots, strings.TrimSpace(string(out)))
		}
	}
	roots = append(roots, filepath.SplitList(os.Getenv("TRACECONV_GOROOTS"))...)
	var tcs []toolchain
	for _, root := range roots {
		tc := toolchain{goroot: root}
		out, err := tc.command(context.Background(), "env", "GOVERSION").Output()
		if err != nil {
			continue
		}
		tc.version = strings.TrimPrefix(strings.TrimSpace(string(out)), "go")
		parts := strings.Split(tc.version, ".")
		if len(parts) < 2 {
			continue
		}
		tc.minor, _ = strconv.Atoi(parts[1])
		tcs = append(tcs, tc)
	}
	return tcs
}

// pick returns the toolchain that made the trace if present, else the newest one that has
// -d=parsed (any 1.24+ parser reads every older trace).
func pick(tcs []toolchain, version string) (toolchain, bool) {
	var best toolchain
	for _, tc := range tcs {
		if tc.version == version && tc.minor >= 24 {
			return tc, true
		}
		if tc.minor >= 24 && tc.minor > best.minor {
			best = tc
		}
	}
	return best, best.goroot != ""
}

type wait struct{ g, t int64 }

// parsedWaits runs `go tool trace -d=parsed` and collects its Runnable -> Running transitions.
func parsedWaits(t *testing.T, tc toolchain, path string, timeout time.Duration) []wait {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := tc.command(ctx, "tool", "trace", "-d=parsed", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ws []wait
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.Contains(line, []byte("Runnable->Running")) {
			continue
		}
		if m := parsedWait.FindSubmatch(line); m != nil {
			ts, _ := strconv.ParseInt(string(m[1]), 10, 64)
			g, _ := strconv.ParseInt(string(m[2]), 10, 64)
			ws = append(ws, wait{g, ts})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("go %s tool trace -d=parsed %s: %v\n%s", tc.version, path, err, stderr.String())
	}
	return ws
}

// convertedWaits converts path and returns its waits with absolute trace times.
func convertedWaits(t *testing.T, path string) []wait {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read-only
	var w bytes.Buffer
	sum, err := conv.Convert(f, conv.Tables{Waits: &w, Tasks: io.Discard, Regions: io.Discard, Logs: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&w)
	r.ReuseRecord = true
	if _, err := r.Read(); err != nil { // header
		t.Fatal(err)
	}
	var ws []wait
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		g, _ := strconv.ParseInt(rec[0], 10, 64)
		end, _ := strconv.ParseInt(rec[9], 10, 64) // end_ns
		ws = append(ws, wait{g, end + sum.TraceStart})
	}
	return ws
}

func compareWaits(t *testing.T, what string, ours, theirs []wait) {
	t.Helper()
	if len(ours) != len(theirs) {
		t.Errorf("%s: traceconv has %d Runnable->Running transitions, go tool trace -d=parsed %d", what, len(ours), len(theirs))
	}
	less := func(a, b wait) int {
		if a.t != b.t {
			return int(a.t - b.t)
		}
		return int(a.g - b.g)
	}
	slices.SortFunc(ours, less)
	slices.SortFunc(theirs, less)
	for i := range min(len(ours), len(theirs)) {
		if ours[i] != theirs[i] {
			t.Errorf("%s: transition %d: traceconv has goroutine %d at %d, go tool trace goroutine %d at %d",
				what, i, ours[i].g, ours[i].t, theirs[i].g, theirs[i].t)
			return
		}
	}
}

func TestWaitsMatchGoToolTraceParsed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go tool trace")
	}
	tcs := toolchains(t)
	for _, name := range []string{"lab-go1.21.13.trace", "lab-go1.22.10.trace", "lab-go1.25.5.trace", "lab-go1.27.3.trace"} {
		t.Run(name, func(t *testing.T) {
			made := strings.TrimSuffix(strings.TrimPrefix(name, "lab-go"), ".trace")
			tc, ok := pick(tcs, made)
			if !ok {
				t.Skip("no Go 1.24+ toolchain with go tool trace -d=parsed (set TRACECONV_GOROOTS)")
			}
			if tc.version != made {
				t.Logf("checking with go%s: go%s, which made it, is not in TRACECONV_GOROOTS or has no -d=parsed", tc.version, made)
			}
			ours, theirs := convertedWaits(t, testdata(name)), parsedWaits(t, tc, testdata(name), 3*time.Minute)
			if len(theirs) == 0 {
				t.Fatalf("go%s printed no Runnable->Running transition: has -d=parsed's format changed?", tc.version)
			}
			compareWaits(t, fmt.Sprintf("%s with go%s", name, tc.version), ours, theirs)
			t.Logf("%s: %d Runnable->Running transitions, identical in go%s tool trace -d=parsed", name, len(ours), tc.version)
		})
	}
}

// TestSpeedVsGoToolTrace times traceconv against `go tool trace -d=parsed` on a large trace
// named by TRACECONV_BENCH_TRACE (made with the go on PATH, e.g. the lab at -duration=500ms),
// checks they agree, and fails if traceconv is slower. Both write everything they produce:
// traceconv its tables to a temporary directory, go tool trace its text into a pipe.
func TestSpeedVsGoToolTrace(t *testing.T) {
	path := os.Getenv("TRACECONV_BENCH_TRACE")
	if path == "" {
		t.Skip("set TRACECONV_BENCH_TRACE to a large trace.out")
	}
	tcs := toolchains(t)
	if len(tcs) == 0 || tcs[0].minor < 24 {
		t.Skip("the go on PATH has no go tool trace -d=parsed")
	}
	tc := tcs[0]
	ctx := context.Background()
	out, err := tc.command(ctx, "tool", "-n", "trace").Output() // time the tool, not the go command
	if err != nil {
		t.Fatal(err)
	}
	tool := strings.TrimSpace(string(out))
	best := func(run func()) time.Duration {
		b := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			run()
			b = min(b, time.Since(start))
		}
		return b
	}
	var sum conv.Summary
	ours := best(func() {
		if sum, err = convertFile(path, filepath.Join(t.TempDir(), "tables")); err != nil {
			t.Fatal(err)
		}
	})
	theirs := best(func() {
		cmd := exec.Command(tool, "-d=parsed", path)
		cmd.Stdout = io.Discard
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%s: %d events, %d waits; traceconv %v, go%s tool trace -d=parsed %v (best of 3)",
		path, sum.Events, sum.Waits, ours.Round(time.Millisecond), tc.version, theirs.Round(time.Millisecond))
	compareWaits(t, path, convertedWaits(t, path), parsedWaits(t, tc, path, 10*time.Minute))
	if ours > theirs {
		t.Errorf("traceconv (%v) is slower than go tool trace -d=parsed (%v)", ours, theirs)
	}
}
