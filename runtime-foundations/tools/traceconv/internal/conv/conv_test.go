package conv

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// labTraces are the committed lab traces and the header version each toolchain writes.
var labTraces = []struct{ file, version string }{
	{"lab-go1.21.13.trace", "1.21"},
	{"lab-go1.22.10.trace", "1.22"},
	{"lab-go1.25.5.trace", "1.25"},
	{"lab-go1.27.3.trace", "1.26"},
}

var workloads = []string{"cpu", "pingpong", "timers", "syscall", "alloc", "serve"}

type converted struct {
	sum                         Summary
	waits, tasks, regions, logs []map[string]string
	raw                         [4][]byte
}

func convertFile(t testing.TB, name string) converted {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read-only
	var w, tk, r, l bytes.Buffer
	sum, err := Convert(f, Tables{Waits: &w, Tasks: &tk, Regions: &r, Logs: &l})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return converted{
		sum: sum, waits: rows(t, &w, WaitsHeader), tasks: rows(t, &tk, TasksHeader),
		regions: rows(t, &r, RegionsHeader), logs: rows(t, &l, LogsHeader),
		raw: [4][]byte{w.Bytes(), tk.Bytes(), r.Bytes(), l.Bytes()},
	}
}

// rows parses a table back with encoding/csv, checking its header on the way.
func rows(t testing.TB, b *bytes.Buffer, header []string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(header, ",") {
		t.Fatalf("header = %v, want %v", recs[:min(len(recs), 1)], header)
	}
	out := make([]map[string]string, 0, len(recs)-1)
	for _, rec := range recs[1:] {
		m := make(map[string]string, len(header))
		for i, h := range header {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func num(t testing.TB, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an integer: %q", s)
	}
	return v
}

func TestConvertReadsEveryToolchainsLabTrace(t *testing.T) {
	for _, lt := range labTraces {
		t.Run(lt.file, func(t *testing.T) {
			c := convertFile(t, lt.file)
			if c.sum.TraceVersion != lt.version {
				t.Errorf("trace version = %s, want %s", c.sum.TraceVersion, lt.version)
			}
			if int64(len(c.waits)) != c.sum.Waits || int64(len(c.tasks)) != c.sum.Tasks ||
				int64(len(c.regions)) != c.sum.Regions || int64(len(c.logs)) != c.sum.Logs {
				t.Errorf("summary counts %+v disagree with the tables (%d waits, %d tasks, %d regions, %d logs)",
					c.sum, len(c.waits), len(c.tasks), len(c.regions), len(c.logs))
			}
			var names []string
			for _, tk := range c.tasks {
				names = append(names, tk["name"])
				if num(t, tk["start_ns"]) > num(t, tk["end_ns"]) {
					t.Errorf("task %s ends before it starts", tk["name"])
				}
			}
			if strings.Join(names, ",") != strings.Join(workloads, ",") {
				t.Errorf("tasks = %v, want %v in order", names, workloads)
			}
			for _, w := range workloads {
				if !has(c.logs, "workload", w, "category", "workload", "message", w) {
					t.Errorf("no %q log naming workload %s", "workload", w)
				}
				if !has(c.regions, "workload", w, "name", w+"/run") {
					t.Errorf("no %s/run region in task %s", w, w)
				}
				// Workers are started inside the task: their first wait inherits it.
				if !has(c.waits, "workload", w, "reason", ReasonCreated, "task_source", "created") {
					t.Errorf("no created wait attributed to %s", w)
				}
			}
			checkWaits(t, &c)
		})
	}
}

func checkWaits(t *testing.T, c *converted) {
	t.Helper()
	reasons := map[string]bool{ReasonCreated: true, ReasonUnblocked: true, ReasonPreempted: true,
		ReasonYielded: true, ReasonSyscall: true, ReasonUndetermined: true}
	var undetermined int64
	for i, w := range c.waits {
		if !reasons[w["reason"]] {
			t.Fatalf("wait %d: unknown reason %q", i, w["reason"])
		}
		if w["reason"] == ReasonUndetermined {
			undetermined++
			if w["start_ns"] != "" || w["wait_ns"] != "" {
				t.Fatalf("wait %d: undetermined wait has an invented start: %v", i, w)
			}
			continue
		}
		start, end, wait := num(t, w["start_ns"]), num(t, w["end_ns"]), num(t, w["wait_ns"])
		if wait < 0 || start+wait != end {
			t.Fatalf("wait %d: start %d + wait %d != end %d", i, start, wait, end)
		}
		if (w["task_id"] == "") != (w["workload"] == "") {
			t.Fatalf("wait %d: task_id and workload disagree: %v", i, w)
		}
	}
	if undetermined != c.sum.WaitsUndetermined {
		t.Errorf("%d undetermined rows, summary says %d", undetermined, c.sum.WaitsUndetermined)
	}
}

// has reports whether some row has every given column=value pair.
func has(rs []map[string]string, kv ...string) bool {
	for _, r := range rs {
		ok := true
		for i := 0; i < len(kv); i += 2 {
			ok = ok && r[kv[i]] == kv[i+1]
		}
		if ok {
			return true
		}
	}
	return false
}

func TestConvertIsDeterministic(t *testing.T) {
	a, b := convertFile(t, labTraces[3].file), convertFile(t, labTraces[3].file)
	for i := range a.raw {
		if !bytes.Equal(a.raw[i], b.raw[i]) {
			t.Errorf("table %d differs between two conversions of the same trace", i)
		}
	}
}

func TestVersionRejectsForeignHeaders(t *testing.T) {
	for _, h := range []string{"", "go 1.", "go 1.x trace", "PK\x03\x04zipzipzip", "\x1f\x8b\x08gzip"} {
		if _, err := Version([]byte(h)); !errors.Is(err, ErrNotTrace) {
			t.Errorf("Version(%q) error = %v, want ErrNotTrace", h, err)
		}
	}
	if v, err := Version([]byte("go 1.26 trace\x00\x00\x00")); v != "1.26" || err != nil {
		t.Errorf("Version = %q, %v", v, err)
	}
}

func TestConvertRejectsEmptyInput(t *testing.T) {
	_, err := Convert(bytes.NewReader(nil), Tables{Waits: &bytes.Buffer{}, Tasks: &bytes.Buffer{}, Regions: &bytes.Buffer{}, Logs: &bytes.Buffer{}})
	if !errors.Is(err, ErrNotTrace) {
		t.Errorf("error = %v, want ErrNotTrace", err)
	}
}

func TestCSVQuotesOnlyWhatNeedsIt(t *testing.T) {
	var b bytes.Buffer
	w := newCSVWriter(&b, "a", "b", "c")
	w.str(`say "hi", then`)
	w.optInt(0, false)
	w.str("line\nbreak")
	w.end()
	if err := w.flush(); err != nil {
		t.Fatal(err)
	}
	want := "a,b,c\n\"say \"\"hi\"\", then\",,\"line\nbreak\"\n"
	if b.String() != want {
		t.Errorf("csv = %q, want %q", b.String(), want)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != `say "hi", then` || recs[1][2] != "line\nbreak" {
		t.Errorf("round trip = %q, %v", recs, err)
	}
}

// BenchmarkConvert measures conversion of the newest committed trace (tables discarded
// into memory); the large-trace comparison with go tool trace is TestSpeedVsGoToolTrace.
func BenchmarkConvert(b *testing.B) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", labTraces[3].file))
	if err != nil {
		b.Fatal(err)
	}
	var events int64
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		var w, tk, r, l bytes.Buffer
		sum, err := Convert(bytes.NewReader(data), Tables{Waits: &w, Tasks: &tk, Regions: &r, Logs: &l})
		if err != nil {
			b.Fatal(err)
		}
		events = sum.Events
	}
	b.ReportMetric(float64(events*int64(b.N))/b.Elapsed().Seconds(), "events/s")
}
