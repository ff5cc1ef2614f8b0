package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-release-lab/runtime-foundations/schedule-forensics/internal/forensics"
)

func TestRunWritesTraceMetricsAndRequestsOnlyWhereTold(t *testing.T) {
	dir := t.TempDir()
	out := func(name string) string { return filepath.Join(dir, name) }
	var stderr bytes.Buffer
	err := run([]string{"-duration=10ms", "-goroutines=4", "-workloads=cpu,serve",
		"-trace", out("trace.out"), "-metrics", out("metrics.json"), "-requests", out("requests.csv")}, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("dir holds %d files, want exactly the 3 asked for", len(entries))
	}
	tr, err := os.ReadFile(out("trace.out"))
	if err != nil || !bytes.HasPrefix(tr, []byte("go 1.")) {
		t.Errorf("trace: %v, header %q", err, tr[:min(len(tr), 16)])
	}
	var report forensics.Report
	b, _ := os.ReadFile(out("metrics.json"))
	if err := json.Unmarshal(b, &report); err != nil {
		t.Fatal(err)
	}
	if len(report.Snapshots) != 3 || strings.Join(report.Workloads, ",") != "cpu,serve" {
		t.Errorf("metrics: workloads %v, %d snapshots", report.Workloads, len(report.Snapshots))
	}
	reqs, _ := os.ReadFile(out("requests.csv"))
	if lines := strings.Count(string(reqs), "\n"); lines < 2 || !strings.HasPrefix(string(reqs), forensics.RequestsHeader+"\n") {
		t.Errorf("requests: %d lines", lines)
	}
}

func TestRunRejectsUnknownWorkloadBeforeWriting(t *testing.T) {
	dir := t.TempDir()
	err := run([]string{"-workloads=cpu,bogus", "-trace", filepath.Join(dir, "t.out")}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("err = %v, want unknown workload", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files written on error", len(entries))
	}
}
