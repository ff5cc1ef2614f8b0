package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-release-lab/runtime-foundations/tools/traceconv/internal/conv"
)

var outputs = []string{WaitsFile, TasksFile, RegionsFile, LogsFile, SummaryFile}

func testdata(name string) string { return filepath.Join("testdata", name) }

// mustFail runs traceconv on a bad input and checks the failure is loud (an error naming
// the file) and clean (nothing left beside or in the output directory).
func mustFail(t *testing.T, input, wantInMessage string) {
	t.Helper()
	parent := t.TempDir()
	out := filepath.Join(parent, "tables")
	var stdout, stderr bytes.Buffer
	err := run([]string{"-o", out, input}, &stdout, &stderr)
	if err == nil {
		t.Fatalf("%s: converted without error", input)
	}
	if !strings.Contains(err.Error(), input) || !strings.Contains(err.Error(), wantInMessage) {
		t.Errorf("error %q does not name the file %s and the reason %q", err, input, wantInMessage)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("failed conversion left %d entries in %s (first %s)", len(entries), parent, entries[0].Name())
	}
	if stdout.Len() != 0 {
		t.Errorf("failed conversion printed %q", stdout.String())
	}
}

func TestTruncatedTraceFailsAndWritesNothing(t *testing.T) {
	for _, name := range []string{"lab-go1.21.13.trace", "lab-go1.25.5.trace", "lab-go1.27.3.trace"} {
		data, err := os.ReadFile(testdata(name))
		if err != nil {
			t.Fatal(err)
		}
		for _, frac := range []float64{0.999, 0.9, 0.5, 0.01} {
			cut := filepath.Join(t.TempDir(), "cut-"+name)
			if err := os.WriteFile(cut, data[:int(float64(len(data))*frac)], 0o644); err != nil {
				t.Fatal(err)
			}
			mustFail(t, cut, "")
		}
	}
}

func TestEmptyAndForeignFilesFailAndWriteNothing(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"empty.out":    "",
		"text.out":     "this is not a trace, just text\n",
		"pprof.out":    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", // gzip, as a CPU profile is
		"future.out":   "go 1.99 trace\x00\x00\x00" + strings.Repeat("\x00", 64),
		"headonly.out": "go 1.26 trace\x00\x00\x00",
	}
	for name, content := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) { mustFail(t, path, "") })
	}
	t.Run("not a trace says so", func(t *testing.T) { mustFail(t, filepath.Join(dir, "text.out"), "not a Go execution trace") })
	t.Run("missing file", func(t *testing.T) { mustFail(t, filepath.Join(dir, "nope.out"), "no such file") })
}

func TestConversionWritesEveryTableAndReplacesOldOnes(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tables")
	for _, name := range []string{"lab-go1.22.10.trace", "lab-go1.27.3.trace"} { // second run: dir exists
		var stdout bytes.Buffer
		if err := run([]string{"-o", out, testdata(name)}, &stdout, &bytes.Buffer{}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(stdout.String(), "waits") {
			t.Errorf("summary line = %q", stdout.String())
		}
		entries, _ := os.ReadDir(out)
		if len(entries) != len(outputs) {
			t.Errorf("%s holds %d entries, want %v", out, len(entries), outputs)
		}
		var sum conv.Summary
		b, err := os.ReadFile(filepath.Join(out, SummaryFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sum); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"lab-go1.22.10.trace": "1.22", "lab-go1.27.3.trace": "1.26"}[name]
		if sum.TraceVersion != want || sum.Waits == 0 || sum.Events == 0 {
			t.Errorf("summary after %s: version %s, %d waits, %d events", name, sum.TraceVersion, sum.Waits, sum.Events)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".tables.tmp*")); len(leftovers) != 0 {
		t.Errorf("temporary directories left: %v", leftovers)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"x.trace"}, {"-o", t.TempDir()}, {"-o", t.TempDir(), "a", "b"}} {
		if err := run(args, &bytes.Buffer{}, &bytes.Buffer{}); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
