package forensics

import (
	"math"
	"runtime/metrics"
	"strings"
	"time"
)

// SchedPrefix selects the metrics a snapshot records. Which names exist depends on the
// toolchain (Go 1.26 added goroutine-state and thread counts), so the set is read from
// metrics.All at run time rather than listed here.
const SchedPrefix = "/sched/"

// LatencyMetric is the scheduling-latency histogram every toolchain since 1.17 has.
const LatencyMetric = "/sched/latencies:seconds"

// Metric is one sampled runtime/metrics value. Exactly one of Uint64, Float64 and
// Histogram is set, as Kind says.
type Metric struct {
	Name      string     `json:"name"`
	Kind      string     `json:"kind"` // "uint64", "float64" or "histogram"
	Uint64    *uint64    `json:"uint64,omitempty"`
	Float64   *float64   `json:"float64,omitempty"`
	Histogram *Histogram `json:"histogram,omitempty"`
}

// Histogram is a cumulative runtime/metrics histogram. Counts[i] counts values in
// [Buckets[i], Buckets[i+1]); JSON has no infinities, so an infinite boundary (only
// ever the first or the last) is null. Delta is Counts minus the previous snapshot's
// counts of the same metric: what happened during this snapshot's workload.
type Histogram struct {
	Buckets []*float64 `json:"buckets"`
	Counts  []uint64   `json:"counts"`
	Delta   []uint64   `json:"delta,omitempty"`
	Total   uint64     `json:"total"`
}

// Snapshot is every /sched/ metric at one moment: at start, or after a workload.
type Snapshot struct {
	Label   string   `json:"label"` // "start" or the workload name
	TNs     int64    `json:"t_ns"`  // since the run's origin
	Ops     int64    `json:"ops"`   // operations the workload did (0 at start)
	Metrics []Metric `json:"metrics"`
}

// SchedMetricNames lists the /sched/ metrics this toolchain supports.
func SchedMetricNames() []string {
	var names []string
	for _, d := range metrics.All() {
		if strings.HasPrefix(d.Name, SchedPrefix) {
			names = append(names, d.Name)
		}
	}
	return names
}

// Sampler reads the /sched/ metrics repeatedly with one reused sample slice.
type Sampler struct {
	origin  time.Time
	samples []metrics.Sample
	prev    map[string][]uint64
}

// NewSampler prepares to read every /sched/ metric of this toolchain.
func NewSampler(origin time.Time) *Sampler {
	names := SchedMetricNames()
	s := &Sampler{origin: origin, samples: make([]metrics.Sample, len(names)), prev: map[string][]uint64{}}
	for i, n := range names {
		s.samples[i].Name = n
	}
	return s
}

// Take reads the metrics now; names the toolchain cannot report (KindBad) are skipped.
func (s *Sampler) Take(label string, ops int64) Snapshot {
	metrics.Read(s.samples)
	snap := Snapshot{Label: label, TNs: time.Since(s.origin).Nanoseconds(), Ops: ops}
	for _, smp := range s.samples {
		m := Metric{Name: smp.Name}
		switch smp.Value.Kind() {
		case metrics.KindUint64:
			v := smp.Value.Uint64()
			m.Kind, m.Uint64 = "uint64", &v
		case metrics.KindFloat64:
			v := smp.Value.Float64()
			m.Kind, m.Float64 = "float64", finite(v)
		case metrics.KindFloat64Histogram:
			m.Kind, m.Histogram = "histogram", s.histogram(smp.Name, smp.Value.Float64Histogram())
		default:
			continue
		}
		snap.Metrics = append(snap.Metrics, m)
	}
	return snap
}

func (s *Sampler) histogram(name string, h *metrics.Float64Histogram) *Histogram {
	out := &Histogram{
		Buckets: make([]*float64, len(h.Buckets)),
		Counts:  append([]uint64(nil), h.Counts...),
	}
	for i, b := range h.Buckets {
		out.Buckets[i] = finite(b)
	}
	prev := s.prev[name]
	out.Delta = make([]uint64, len(out.Counts))
	for i, c := range out.Counts {
		out.Total += c
		out.Delta[i] = c
		if i < len(prev) {
			out.Delta[i] = c - prev[i]
		}
	}
	s.prev[name] = out.Counts
	return out
}

// finite returns a pointer to v, or nil for an infinity or NaN (JSON cannot hold them).
func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}

// Find returns the named metric of the snapshot.
func (s *Snapshot) Find(name string) (Metric, bool) {
	for _, m := range s.Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return Metric{}, false
}
