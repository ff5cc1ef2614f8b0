package lab

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"time"
)

// CSVHeader is the column contract read by the Python stage (stages/stack.py).
var CSVHeader = []string{
	"t_ns", "scenario", "phase", "kind",
	"stack_inuse_bytes", "stack_os_bytes", "goroutines", "starting_size_bytes", "gc_cycles",
	"memstats_stack_inuse",
}

// WriteCSV writes one line per row. A metric the toolchain lacks, and
// memstats_stack_inuse on sample rows, is an empty field (null in Polars).
func WriteCSV(w io.Writer, res *Result) error {
	bw := bufio.NewWriter(w)
	for i, h := range CSVHeader {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		_, _ = bw.WriteString(h)
	}
	_ = bw.WriteByte('\n')
	var buf []byte
	for i := range res.Rows {
		r := &res.Rows[i]
		ph := res.Phases[r.Phase]
		buf = strconv.AppendInt(buf[:0], r.TNs, 10)
		buf = append(buf, ',')
		buf = append(buf, ph.Scenario...)
		buf = append(buf, ',')
		buf = append(buf, ph.Name...)
		buf = append(buf, ',')
		buf = append(buf, r.Kind.String()...)
		for m := 0; m < NMetrics; m++ {
			buf = append(buf, ',')
			if r.Has(m) {
				buf = strconv.AppendUint(buf, r.Vals[m], 10)
			}
		}
		buf = append(buf, ',')
		if r.Kind == KindBoundary {
			buf = strconv.AppendUint(buf, r.MemStatsStackInuse, 10)
		}
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// IntervalStats describes the sampler's achieved intervals.
type IntervalStats struct {
	RequestedNs  int64   `json:"requested_ns"`
	Samples      int     `json:"samples"`
	DurationNs   int64   `json:"duration_ns"` // first to last sample
	AchievedHz   float64 `json:"achieved_hz"` // samples / duration
	MeanNs       float64 `json:"mean_ns"`     // duration / (samples - 1)
	MinNs        int64   `json:"min_ns"`      // distribution of actual gaps
	P50Ns        int64   `json:"p50_ns"`
	P90Ns        int64   `json:"p90_ns"`
	P99Ns        int64   `json:"p99_ns"`
	MaxNs        int64   `json:"max_ns"`
	LateOver2x   int     `json:"late_over_2x"`   // gaps longer than twice the request
	LateOver10x  int     `json:"late_over_10x"`  // gaps longer than ten times the request
	SamplerState string  `json:"sampler_state"`  // "on" or "off"
	Percentiles  string  `json:"percentile_def"` // how percentiles are taken
}

// Intervals summarises the gaps between consecutive sample rows.
func Intervals(rows []Row, requested time.Duration) IntervalStats {
	st := IntervalStats{RequestedNs: int64(requested), SamplerState: "off", Percentiles: "nearest rank"}
	var ts []int64
	for i := range rows {
		if rows[i].Kind == KindSample {
			ts = append(ts, rows[i].TNs)
		}
	}
	st.Samples = len(ts)
	if len(ts) > 0 {
		st.SamplerState = "on"
	}
	if len(ts) < 2 {
		return st
	}
	gaps := make([]int64, len(ts)-1)
	for i := 1; i < len(ts); i++ {
		gaps[i-1] = ts[i] - ts[i-1]
		if requested > 0 && gaps[i-1] > 2*int64(requested) {
			st.LateOver2x++
		}
		if requested > 0 && gaps[i-1] > 10*int64(requested) {
			st.LateOver10x++
		}
	}
	slices.Sort(gaps)
	st.DurationNs = ts[len(ts)-1] - ts[0]
	if st.DurationNs > 0 {
		st.AchievedHz = float64(len(ts)) / (float64(st.DurationNs) / 1e9)
	}
	st.MeanNs = float64(st.DurationNs) / float64(len(gaps))
	st.MinNs, st.MaxNs = gaps[0], gaps[len(gaps)-1]
	st.P50Ns, st.P90Ns, st.P99Ns = rank(gaps, 50), rank(gaps, 90), rank(gaps, 99)
	return st
}

// rank is the nearest-rank percentile of sorted values.
func rank(sorted []int64, p int) int64 {
	i := (p*len(sorted)+99)/100 - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// PhaseSummary is one phase's wall time and stack figures.
type PhaseSummary struct {
	Scenario       string  `json:"scenario"`
	Phase          string  `json:"phase"`
	StartNs        int64   `json:"start_ns"`
	EndNs          int64   `json:"end_ns"`
	WallNs         int64   `json:"wall_ns"`
	Samples        int     `json:"samples"`
	PeakStackInuse *uint64 `json:"peak_stack_inuse_bytes"` // max over samples and end row
	EndStackInuse  *uint64 `json:"end_stack_inuse_bytes"`  // runtime/metrics at the end
	EndMemStats    uint64  `json:"end_memstats_stack_inuse"`
	EndGoroutines  *uint64 `json:"end_goroutines"`
	EndStartSize   *uint64 `json:"end_starting_size_bytes"`
	EndGCCycles    *uint64 `json:"end_gc_cycles"`
}

// Summaries gives one PhaseSummary per phase, in run order.
func Summaries(res *Result) []PhaseSummary {
	out := make([]PhaseSummary, len(res.Phases))
	for i, p := range res.Phases {
		out[i] = PhaseSummary{Scenario: p.Scenario, Phase: p.Name, StartNs: p.StartNs, EndNs: p.EndNs, WallNs: p.EndNs - p.StartNs}
	}
	for i := range res.Rows {
		r := &res.Rows[i]
		s := &out[r.Phase]
		if r.Kind == KindSample {
			s.Samples++
		}
		if r.Has(MStackInuse) && (s.PeakStackInuse == nil || r.Vals[MStackInuse] > *s.PeakStackInuse) {
			s.PeakStackInuse = ptr(r.Vals[MStackInuse])
		}
		if r.Kind == KindBoundary {
			s.EndMemStats = r.MemStatsStackInuse
			s.EndStackInuse = value(r, MStackInuse)
			s.EndGoroutines = value(r, MGoroutines)
			s.EndStartSize = value(r, MStartingSize)
			s.EndGCCycles = value(r, MGCCycles)
		}
	}
	return out
}

func ptr(v uint64) *uint64 { return &v }

func value(r *Row, m int) *uint64 {
	if !r.Has(m) {
		return nil
	}
	return ptr(r.Vals[m])
}

// Meta is the side JSON describing one run.
type Meta struct {
	GoVersion   string          `json:"go_version"`
	GOOS        string          `json:"goos"`
	GOARCH      string          `json:"goarch"`
	GOMAXPROCS  int             `json:"gomaxprocs"`
	NumCPU      int             `json:"num_cpu"`
	Race        bool            `json:"race"`
	GODEBUG     string          `json:"godebug"` // os.Getenv("GODEBUG") as seen by the program
	GODEBUGSet  bool            `json:"godebug_set"`
	Scenarios   []string        `json:"scenarios"`
	N           int             `json:"n"`
	Depth       int             `json:"depth"`
	DeepDepth   int             `json:"deep_depth"`
	FrameSmall  int             `json:"frame_small_bytes"`
	FrameLarge  int             `json:"frame_large_bytes"`
	Churn       int             `json:"churn"`
	ChurnBatch  int             `json:"churn_batch"`
	HoldNs      int64           `json:"hold_ns"`
	GCs         int             `json:"gcs"`
	Sampler     IntervalStats   `json:"sampler"`
	Metrics     map[string]bool `json:"metrics_supported"`
	Phases      []PhaseSummary  `json:"phases"`
	Rows        int             `json:"rows"`
	TotalWallNs int64           `json:"total_wall_ns"`
}

// NewMeta describes a finished run of cfg.
func NewMeta(cfg *Config, res *Result) *Meta {
	gd, set := os.LookupEnv("GODEBUG")
	m := &Meta{
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Race: raceEnabled,
		GODEBUG: gd, GODEBUGSet: set,
		Scenarios: cfg.Scenarios, N: cfg.N, Depth: cfg.Depth, DeepDepth: cfg.DeepDepth,
		FrameSmall: cfg.FrameSmall, FrameLarge: cfg.FrameLarge,
		Churn: cfg.Churn, ChurnBatch: cfg.ChurnBatch, HoldNs: int64(cfg.Hold), GCs: cfg.GCs,
		Sampler: Intervals(res.Rows, cfg.Interval),
		Metrics: supported(&cfg.Metrics),
		Phases:  Summaries(res),
		Rows:    len(res.Rows),
	}
	if n := len(res.Phases); n > 0 {
		m.TotalWallNs = res.Phases[n-1].EndNs
	}
	return m
}

// WriteJSON writes v indented, with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
