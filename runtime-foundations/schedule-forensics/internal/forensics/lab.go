package forensics

import (
	"context"
	"runtime"
	"time"
)

// Report is the metrics file: what ran, and a /sched/ snapshot at start and after each
// workload. Histograms are cumulative; their Delta belongs to the snapshot's workload.
type Report struct {
	GoVersion    string     `json:"go_version"`
	GOOS         string     `json:"goos"`
	GOARCH       string     `json:"goarch"`
	GOMAXPROCS   int        `json:"gomaxprocs"`
	NumCPU       int        `json:"num_cpu"`
	DurationNs   int64      `json:"duration_ns"`
	Goroutines   int        `json:"goroutines"`
	Intensity    int        `json:"intensity"`
	Workloads    []string   `json:"workloads"`
	SchedMetrics []string   `json:"sched_metrics"`
	Snapshots    []Snapshot `json:"snapshots"`
}

// RunAll runs the workloads one after another (each its own trace task) and snapshots
// the /sched/ metrics at start and after each one. Tracing, if wanted, is the caller's.
func RunAll(ctx context.Context, ws []Workload, p Params, origin time.Time, rec *RequestLog) Report {
	s := NewSampler(origin)
	r := Report{
		GoVersion:    runtime.Version(),
		GOOS:         runtime.GOOS,
		GOARCH:       runtime.GOARCH,
		GOMAXPROCS:   runtime.GOMAXPROCS(0),
		NumCPU:       runtime.NumCPU(),
		DurationNs:   p.Duration.Nanoseconds(),
		Goroutines:   p.goroutines(),
		Intensity:    p.intensity(),
		SchedMetrics: SchedMetricNames(),
	}
	r.Snapshots = append(r.Snapshots, s.Take("start", 0))
	for _, w := range ws {
		r.Workloads = append(r.Workloads, w.Name)
		ops := Run(ctx, w, p, rec)
		r.Snapshots = append(r.Snapshots, s.Take(w.Name, ops))
	}
	return r
}
