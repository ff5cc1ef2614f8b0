package forensics

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime/trace"
	"strings"
	"testing"
	"time"
)

// quick keeps every workload short: the tests check what is recorded, not how much.
var quick = Params{Duration: 15 * time.Millisecond, Goroutines: 4}

func TestSelectKeepsListOrderAndRejectsUnknownNames(t *testing.T) {
	ws, err := Select("serve, cpu,serve")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(ws); got != "serve,cpu" {
		t.Errorf("Select order = %q, want serve,cpu", got)
	}
	for _, all := range []string{"", "all"} {
		ws, err := Select(all)
		if err != nil || len(ws) != len(Workloads()) {
			t.Errorf("Select(%q) = %d workloads, %v; want all %d", all, len(ws), err, len(Workloads()))
		}
	}
	if _, err := Select("cpu,nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Select(unknown) error = %v, want one naming it", err)
	}
}

func TestEachWorkloadWritesATraceNamingItsTask(t *testing.T) {
	for _, w := range Workloads() {
		w := w
		t.Run(w.Name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := trace.Start(&buf); err != nil {
				t.Fatal(err)
			}
			ops := Run(context.Background(), w, quick, NewRequestLog(time.Now()))
			trace.Stop()
			if ops <= 0 {
				t.Errorf("%s did no operations", w.Name)
			}
			b := buf.Bytes()
			if !bytes.HasPrefix(b, []byte("go 1.")) {
				t.Fatalf("trace header = %q, want a Go trace", b[:min(len(b), 16)])
			}
			// Task, region and log strings sit verbatim in the trace's string table.
			for _, s := range []string{w.Name + "/run", "workload", "params"} {
				if !bytes.Contains(b, []byte(s)) {
					t.Errorf("trace of %s lacks the string %q", w.Name, s)
				}
			}
		})
	}
}

func TestRunAllSnapshotsSchedLatencyHistogram(t *testing.T) {
	ws, err := Select("cpu,pingpong")
	if err != nil {
		t.Fatal(err)
	}
	r := RunAll(context.Background(), ws, quick, time.Now(), nil)
	labels := make([]string, 0, len(r.Snapshots))
	for _, s := range r.Snapshots {
		labels = append(labels, s.Label)
	}
	if got := strings.Join(labels, ","); got != "start,cpu,pingpong" {
		t.Fatalf("snapshot labels = %s, want start,cpu,pingpong", got)
	}
	for _, s := range r.Snapshots {
		m, ok := s.Find(LatencyMetric)
		if !ok || m.Histogram == nil {
			t.Fatalf("snapshot %s has no %s histogram", s.Label, LatencyMetric)
		}
		h := m.Histogram
		if len(h.Buckets) != len(h.Counts)+1 || len(h.Delta) != len(h.Counts) {
			t.Errorf("%s: %d buckets, %d counts, %d deltas", s.Label, len(h.Buckets), len(h.Counts), len(h.Delta))
		}
		for _, m := range s.Metrics {
			if !strings.HasPrefix(m.Name, SchedPrefix) {
				t.Errorf("snapshot records %s, outside %s", m.Name, SchedPrefix)
			}
		}
	}
	last, _ := r.Snapshots[len(r.Snapshots)-1].Find(LatencyMetric)
	if last.Histogram.Total == 0 {
		t.Error("no scheduling latency sampled after ping-pong")
	}
	if _, ok := r.Snapshots[0].Find("/sched/goroutines:goroutines"); !ok {
		t.Error("goroutine count missing")
	}
	// Infinite bucket bounds must not break encoding.
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
}

func TestServeRecordsEveryRequestLatency(t *testing.T) {
	origin := time.Now()
	rec := NewRequestLog(origin)
	ws, _ := Select("serve")
	ops := Run(context.Background(), ws[0], quick, rec)
	rows := rec.Rows()
	if int64(len(rows)) != ops || len(rows) == 0 {
		t.Fatalf("%d rows recorded for %d requests", len(rows), ops)
	}
	for i, r := range rows {
		if r.Workload != "serve" || r.ID != int64(i+1) || r.LatencyNs <= 0 || r.StartNs < 0 {
			t.Fatalf("row %d = %+v", i, r)
		}
	}
	var buf bytes.Buffer
	if err := WriteRequestsCSV(&buf, rows[:2]); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || lines[0] != RequestsHeader || !strings.HasPrefix(lines[1], "serve,1,") {
		t.Errorf("CSV = %q", lines)
	}
}
