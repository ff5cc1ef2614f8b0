package lab

import (
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// RowKind tells a periodic sample from a phase-boundary cross-check row.
type RowKind uint8

const (
	KindSample   RowKind = iota // taken by the sampler goroutine
	KindBoundary                // taken at the end of a phase, with MemStats
)

func (k RowKind) String() string {
	if k == KindBoundary {
		return "boundary"
	}
	return "sample"
}

// Row is one observation. Vals[i] is meaningful only if Valid has bit i set.
type Row struct {
	TNs   int64 // since the recorder started (monotonic clock)
	Phase int   // index into Recorder.Phases
	Kind  RowKind
	Valid uint8
	Vals  [NMetrics]uint64
	// MemStatsStackInuse is runtime.ReadMemStats' StackInuse (boundary rows).
	MemStatsStackInuse uint64
}

// Has reports whether metric i was read.
func (r *Row) Has(i int) bool { return r.Valid&(1<<i) != 0 }

// Phase is one labeled stretch of a scenario.
type Phase struct {
	Scenario string
	Name     string
	StartNs  int64
	EndNs    int64
}

// Recorder labels time with phases and, if its interval is > 0, samples
// runtime/metrics from its own goroutine.
type Recorder struct {
	start    time.Time
	interval time.Duration

	cur    atomic.Int32 // current phase index, read by the sampler
	Phases []Phase      // written by the driving goroutine only

	samples    []Row // written by the sampler only, until Stop
	boundaries []Row // written by the driving goroutine only
	bReader    *metricReader

	stop chan struct{}
	done chan struct{}
}

// sampleCap is preallocated so the sampler does not allocate (and so does
// not start GC cycles) during a default-sized run: ~1 s at 1 ms is ~1000.
const sampleCap = 8192

// NewRecorder starts the clock in a phase named "start" of scenario "setup"
// and, if interval > 0, the sampler goroutine.
func NewRecorder(interval time.Duration, names *[NMetrics]string) *Recorder {
	r := &Recorder{
		start:    time.Now(),
		interval: interval,
		bReader:  newMetricReader(names),
		Phases:   []Phase{{Scenario: "setup", Name: "start"}},
	}
	if interval > 0 {
		r.samples = make([]Row, 0, sampleCap)
		r.stop = make(chan struct{})
		r.done = make(chan struct{})
		go r.sampler(newMetricReader(names))
	}
	return r
}

func (r *Recorder) now() int64 { return int64(time.Since(r.start)) }

func (r *Recorder) sampler(mr *metricReader) {
	defer close(r.done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		r.samples = append(r.samples, r.take(mr, KindSample))
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
	}
}

func (r *Recorder) take(mr *metricReader, kind RowKind) Row {
	row := Row{TNs: r.now(), Phase: int(r.cur.Load()), Kind: kind}
	row.Valid = mr.read(&row.Vals)
	return row
}

// Begin starts a new phase; samples from now on carry its label.
func (r *Recorder) Begin(scenario, name string) {
	r.Phases = append(r.Phases, Phase{Scenario: scenario, Name: name, StartNs: r.now()})
	r.cur.Store(int32(len(r.Phases) - 1))
}

// End closes the current phase with a boundary row: runtime/metrics, then
// runtime.ReadMemStats (stop-the-world) as a cross-check of StackInuse.
func (r *Recorder) End() {
	row := r.take(r.bReader, KindBoundary)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	row.MemStatsStackInuse = ms.StackInuse
	r.boundaries = append(r.boundaries, row)
	r.Phases[row.Phase].EndNs = r.now()
}

// Stop ends the sampler (if any) and returns all rows in time order.
func (r *Recorder) Stop() []Row {
	if r.stop != nil {
		close(r.stop)
		<-r.done
		r.stop = nil
	}
	rows := make([]Row, 0, len(r.samples)+len(r.boundaries))
	rows = append(rows, r.samples...)
	rows = append(rows, r.boundaries...)
	slices.SortStableFunc(rows, func(a, b Row) int {
		switch {
		case a.TNs < b.TNs:
			return -1
		case a.TNs > b.TNs:
			return 1
		}
		return 0
	})
	return rows
}
