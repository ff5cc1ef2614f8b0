package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-release-lab/runtime-foundations/stack-growth/internal/lab"
)

// TestMain lets -overhead re-execute the test binary as the program.
func TestMain(m *testing.M) {
	if os.Getenv("STACK_GROWTH_AS_MAIN") == "1" {
		if err := run(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var tiny = []string{"-n=16", "-depth=64", "-deep-depth=256", "-hold=1ms", "-churn=64", "-churn-batch=16"}

func TestRunWritesCSVAndMeta(t *testing.T) {
	out := filepath.Join(t.TempDir(), "stack.csv")
	if err := run(append(tiny, "-out="+out)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(b), "\n"); first != strings.Join(lab.CSVHeader, ",") {
		t.Errorf("header %q", first)
	}
	var m lab.Meta
	b, err = os.ReadFile(strings.TrimSuffix(out, ".csv") + ".meta.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.N != 16 || m.Sampler.RequestedNs != 1e6 || m.Sampler.Samples == 0 || m.GoVersion == "" {
		t.Errorf("meta %+v", m)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-scenarios=nope", "-out=x.csv"},
		{"-frame=64", "-out=x.csv"},
		{"-frame=64,1000", "-out=x.csv"},
		{"-scenarios=release", "-out=x.csv"},
		{}, // no -out
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}

func TestOverheadReexecutesWithSamplerOffAndOn(t *testing.T) {
	t.Setenv("STACK_GROWTH_AS_MAIN", "1")
	path := filepath.Join(t.TempDir(), "overhead.json")
	if err := run(append(tiny, "-scenarios=wave,release", "-overhead="+path, "-overhead-reps=1")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var o lab.Overhead
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if o.Reps != 1 || len(o.TotalWallOffNs) != 1 || o.SamplesOn[0] == 0 || len(o.Phases) == 0 {
		t.Errorf("overhead %+v", o)
	}
}
