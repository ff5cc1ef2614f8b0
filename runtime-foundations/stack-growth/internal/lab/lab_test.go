package lab

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"
)

// testConfig is small enough for -race on 2 cores: a few hundred ms.
func testConfig() Config {
	c := DefaultConfig()
	c.N = 64
	c.Depth = 256
	c.DeepDepth = 1024
	c.Hold = 2 * time.Millisecond
	c.Churn = 400
	c.ChurnBatch = 32
	return c
}

// pow2AtLeast rounds up to a power of two, and to at least the 2 KiB minimum stack.
func pow2AtLeast(n uint64) uint64 {
	p := uint64(2048)
	for p < n {
		p *= 2
	}
	return p
}

func run(t *testing.T, c *Config) *Result {
	t.Helper()
	res, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func peak(res *Result, phases ...string) uint64 {
	var p uint64
	for i := range res.Rows {
		r := &res.Rows[i]
		name := res.Phases[r.Phase].Name
		for _, want := range phases {
			if name == want && r.Has(MStackInuse) {
				p = max(p, r.Vals[MStackInuse])
			}
		}
	}
	return p
}

func boundary(t *testing.T, res *Result, phase string) *Row {
	t.Helper()
	for i := range res.Rows {
		r := &res.Rows[i]
		if r.Kind == KindBoundary && res.Phases[r.Phase].Name == phase {
			return r
		}
	}
	t.Fatalf("no boundary row for phase %s", phase)
	return nil
}

func TestWavePeakHoldsNStacksOfDepthD(t *testing.T) {
	c := testConfig()
	c.Scenarios = []string{ScenarioWave, ScenarioRelease}
	res := run(t, &c)
	// Each parked goroutine's frames take more than frame x depth bytes
	// (each frame adds a return address to its array), and its stack is a
	// power of two that holds them: the smallest power of two above
	// frame x depth is a lower bound that -race (bigger frames) only raises.
	perG := pow2AtLeast(uint64(c.FrameSmall*c.Depth) + 1)
	want := uint64(c.N) * perG
	if got := peak(res, "wave_grow", "wave_hold"); got < want {
		t.Errorf("wave peak StackInuse %d < N x per-goroutine stack %d x %d = %d", got, c.N, perG, want)
	}
	// The cross-check read by ReadMemStats agrees, all goroutines still parked.
	if got := boundary(t, res, "wave_hold").MemStatsStackInuse; got < want {
		t.Errorf("wave_hold MemStats.StackInuse %d < %d", got, want)
	}
}

func TestReleaseAndGCShrinkBelowWavePeak(t *testing.T) {
	c := testConfig()
	c.Scenarios = []string{ScenarioWave, ScenarioRelease}
	res := run(t, &c)
	wavePeak := peak(res, "wave_grow", "wave_hold")
	held := boundary(t, res, "wave_hold").MemStatsStackInuse
	shrunk := boundary(t, res, "shrink_gc2").MemStatsStackInuse
	final := boundary(t, res, "exit_gc2").MemStatsStackInuse
	t.Logf("wave peak %d, held %d, after unwind+2 GCs %d, after exit+2 GCs %d", wavePeak, held, shrunk, final)
	// Shrinking halves a mostly unused stack once per GC: two GCs must not grow it.
	if shrunk > held {
		t.Errorf("StackInuse after unwind and GC %d > while parked deep %d", shrunk, held)
	}
	if final >= wavePeak {
		t.Errorf("StackInuse after release and GC %d >= wave peak %d", final, wavePeak)
	}
	// After exit nothing of the wave should be left: well under one N-th of the peak each.
	if final > wavePeak/2 {
		t.Errorf("StackInuse after release and GC %d > half the wave peak %d", final, wavePeak)
	}
}

func TestRowsAreTimeOrderedAndLabeled(t *testing.T) {
	c := testConfig()
	res := run(t, &c)
	var samples, boundaries int
	seen := map[string]bool{}
	for i := range res.Rows {
		r := &res.Rows[i]
		if i > 0 && r.TNs < res.Rows[i-1].TNs {
			t.Fatalf("row %d at %d ns before row %d at %d ns", i, r.TNs, i-1, res.Rows[i-1].TNs)
		}
		ph := res.Phases[r.Phase]
		if ph.Scenario == "" || ph.Name == "" {
			t.Fatalf("row %d has no phase: %+v", i, ph)
		}
		seen[ph.Name] = true
		switch r.Kind {
		case KindSample:
			samples++
		case KindBoundary:
			boundaries++
			if r.MemStatsStackInuse == 0 {
				t.Errorf("boundary row %d (%s) has no MemStats.StackInuse", i, ph.Name)
			}
		}
		if !r.Has(MStackInuse) || !r.Has(MGoroutines) {
			t.Errorf("row %d lacks metrics every supported toolchain has: valid=%b", i, r.Valid)
		}
	}
	if boundaries != len(res.Phases) {
		t.Errorf("%d boundary rows for %d phases", boundaries, len(res.Phases))
	}
	if samples == 0 {
		t.Error("sampler recorded nothing")
	}
	for _, p := range []string{"deep_small", "deep_large", "wave_grow", "unwind", "exit_gc2", "churn_cold", "churn_warm"} {
		if !seen[p] {
			t.Errorf("no row labeled %s", p)
		}
	}
}

func TestDeepLargeFramesNeedMoreStackThanSmall(t *testing.T) {
	c := testConfig()
	c.Scenarios = []string{ScenarioDeep}
	res := run(t, &c)
	small := boundary(t, res, "deep_small").MemStatsStackInuse
	large := boundary(t, res, "deep_large").MemStatsStackInuse
	// The deepest large-frame stack alone needs at least frame x depth bytes.
	if want := uint64(c.FrameLarge * c.DeepDepth); large < want || large <= small {
		t.Errorf("deep_large StackInuse %d, deep_small %d; want > small and >= %d", large, small, want)
	}
}

func TestSamplerOffRecordsBoundariesOnly(t *testing.T) {
	c := testConfig()
	c.Interval = 0
	c.Scenarios = []string{ScenarioDeep}
	res := run(t, &c)
	for i := range res.Rows {
		if res.Rows[i].Kind != KindBoundary {
			t.Fatalf("row %d is a sample with the sampler off", i)
		}
	}
	if st := Intervals(res.Rows, 0); st.Samples != 0 || st.SamplerState != "off" {
		t.Errorf("interval stats with sampler off: %+v", st)
	}
}

func TestMissingMetricReadsAsNullNotCrash(t *testing.T) {
	names := DefaultMetricNames
	names[MStartingSize] = "/no/such/metric:bytes" // what an older toolchain reports as KindBad
	var vals [NMetrics]uint64
	valid := newMetricReader(&names).read(&vals)
	if valid&(1<<MStartingSize) != 0 {
		t.Error("unknown metric marked valid")
	}
	if valid&(1<<MStackInuse) == 0 {
		t.Error("known metric not read")
	}
	if supported(&names)["/no/such/metric:bytes"] {
		t.Error("unknown metric reported as supported")
	}

	c := testConfig()
	c.Scenarios = []string{ScenarioDeep}
	c.Metrics = names
	res := run(t, &c)
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		if r[col["starting_size_bytes"]] != "" {
			t.Fatalf("missing metric written as %q, want empty (null)", r[col["starting_size_bytes"]])
		}
		if r[col["stack_inuse_bytes"]] == "" {
			t.Fatal("stack_inuse_bytes empty")
		}
	}
}

func TestCSVColumnsAndNulls(t *testing.T) {
	res := &Result{
		Phases: []Phase{{Scenario: "setup", Name: "start"}, {Scenario: "wave", Name: "wave_hold"}},
		Rows: []Row{
			{TNs: 5, Phase: 1, Kind: KindSample, Valid: 1<<MStackInuse | 1<<MGoroutines, Vals: [NMetrics]uint64{MStackInuse: 4096, MGoroutines: 3}},
			{TNs: 9, Phase: 1, Kind: KindBoundary, Valid: 0x1f, Vals: [NMetrics]uint64{8192, 0, 3, 2048, 1}, MemStatsStackInuse: 8192},
		},
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, res); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		strings.Join(CSVHeader, ","),
		"5,wave,wave_hold,sample,4096,,3,,,",
		"9,wave,wave_hold,boundary,8192,0,3,2048,1,8192",
		"",
	}, "\n")
	if buf.String() != want {
		t.Errorf("CSV:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestIntervalsFromSampleGaps(t *testing.T) {
	ts := []int64{0, 1e6, 2e6, 5e6, 6e6}
	rows := make([]Row, 0, len(ts)+1)
	for _, ts := range ts {
		rows = append(rows, Row{TNs: ts})
	}
	rows = append(rows, Row{TNs: 5500000, Kind: KindBoundary}) // ignored
	st := Intervals(rows, time.Millisecond)
	if st.Samples != 5 || st.DurationNs != 6e6 || st.MinNs != 1e6 || st.MaxNs != 3e6 || st.P50Ns != 1e6 || st.LateOver2x != 1 {
		t.Errorf("stats %+v", st)
	}
	if st.AchievedHz < 833 || st.AchievedHz > 834 { // 5 samples in 6 ms
		t.Errorf("achieved %v Hz", st.AchievedHz)
	}
}

func TestParseFlags(t *testing.T) {
	if s, err := ParseScenarios("wave, release"); err != nil || len(s) != 2 {
		t.Errorf("ParseScenarios: %v %v", s, err)
	}
	if _, err := ParseScenarios("wave,bogus"); err == nil {
		t.Error("unknown scenario accepted")
	}
	if sm, lg, err := ParseFrames("128,4096"); err != nil || sm != 128 || lg != 4096 {
		t.Errorf("ParseFrames: %d %d %v", sm, lg, err)
	}
	c := DefaultConfig()
	c.Scenarios = []string{ScenarioRelease}
	if err := c.Validate(); err == nil {
		t.Error("release without wave accepted")
	}
	c = DefaultConfig()
	c.FrameLarge = 1000
	if err := c.Validate(); err == nil {
		t.Error("frame size without a recursive function accepted")
	}
}

func TestOverheadComparesSamplerOffAndOn(t *testing.T) {
	c := testConfig()
	c.Scenarios = []string{ScenarioWave, ScenarioRelease}
	var off, on []*Meta
	for _, interval := range []time.Duration{0, time.Millisecond} {
		c.Interval = interval
		m := NewMeta(&c, run(t, &c))
		if interval == 0 {
			off = append(off, m)
		} else {
			on = append(on, m)
		}
	}
	o, err := CompareOverhead(off, on)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.TotalWallOffNs) != 1 || len(o.TotalWallOnNs) != 1 || o.SamplesOn[0] == 0 || o.IntervalNs != int64(time.Millisecond) {
		t.Errorf("overhead runs: %+v", o)
	}
	if len(o.Phases) != len(on[0].Phases) {
		t.Fatalf("%d phases compared, run had %d", len(o.Phases), len(on[0].Phases))
	}
	for _, p := range o.Phases {
		if len(p.StackOff) != 1 || len(p.StackOn) != 1 || p.StackOff[0] == 0 || p.MinWallOnNs != p.WallOnNs[0] {
			t.Errorf("phase %s: %+v", p.Phase, p)
		}
	}
	if o.GCCyclesOff[0] < 4 { // 2 after unwind, 2 after exit
		t.Errorf("GC cycles with sampler off: %d", o.GCCyclesOff[0])
	}
	if _, err := CompareOverhead(off, nil); err == nil {
		t.Error("unpaired runs accepted")
	}
}
