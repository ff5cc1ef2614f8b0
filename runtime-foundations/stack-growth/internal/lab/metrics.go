package lab

import "runtime/metrics"

// Indices of the sampled runtime/metrics values in a Row.
const (
	MStackInuse   = iota // /memory/classes/heap/stacks:bytes (== MemStats.StackInuse)
	MStackOS             // /memory/classes/os-stacks:bytes
	MGoroutines          // /sched/goroutines:goroutines
	MStartingSize        // /gc/stack/starting-size:bytes
	MGCCycles            // /gc/cycles/total:gc-cycles
	NMetrics
)

// DefaultMetricNames are the runtime/metrics names read for each index.
var DefaultMetricNames = [NMetrics]string{
	MStackInuse:   "/memory/classes/heap/stacks:bytes",
	MStackOS:      "/memory/classes/os-stacks:bytes",
	MGoroutines:   "/sched/goroutines:goroutines",
	MStartingSize: "/gc/stack/starting-size:bytes",
	MGCCycles:     "/gc/cycles/total:gc-cycles",
}

// metricReader reads a fixed set of metrics into a reused sample slice, so a
// read does not allocate (an allocating sampler could trigger the GC, which
// shrinks stacks and resets the starting stack size it is measuring).
type metricReader struct {
	samples []metrics.Sample
}

func newMetricReader(names *[NMetrics]string) *metricReader {
	r := &metricReader{samples: make([]metrics.Sample, NMetrics)}
	for i, n := range names {
		r.samples[i].Name = n
	}
	return r
}

// read fills vals and returns a bit mask of the indices that hold a value.
// A name this toolchain lacks reads as KindBad and leaves its bit clear.
func (r *metricReader) read(vals *[NMetrics]uint64) uint8 {
	metrics.Read(r.samples)
	var valid uint8
	for i := range r.samples {
		v := r.samples[i].Value
		switch v.Kind() {
		case metrics.KindUint64:
			vals[i] = v.Uint64()
			valid |= 1 << i
		case metrics.KindFloat64:
			vals[i] = uint64(v.Float64())
			valid |= 1 << i
		default: // KindBad or a histogram: nothing to record
			vals[i] = 0
		}
	}
	return valid
}

// supported reports, per name, whether this toolchain knows the metric.
func supported(names *[NMetrics]string) map[string]bool {
	known := map[string]bool{}
	for _, d := range metrics.All() {
		known[d.Name] = true
	}
	out := make(map[string]bool, len(names))
	for _, n := range names {
		out[n] = known[n]
	}
	return out
}
