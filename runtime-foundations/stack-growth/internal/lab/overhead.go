package lab

import (
	"fmt"
	"slices"
)

// OverheadPhase compares one phase with the sampler off and on.
type OverheadPhase struct {
	Scenario        string   `json:"scenario"`
	Phase           string   `json:"phase"`
	WallOffNs       []int64  `json:"wall_off_ns"`
	WallOnNs        []int64  `json:"wall_on_ns"`
	MedianWallOffNs int64    `json:"median_wall_off_ns"`
	MedianWallOnNs  int64    `json:"median_wall_on_ns"`
	MinWallOffNs    int64    `json:"min_wall_off_ns"`
	MinWallOnNs     int64    `json:"min_wall_on_ns"`
	WallDeltaPct    float64  `json:"wall_delta_pct"` // (on - off) / off, of the medians
	StackOff        []uint64 `json:"memstats_stack_inuse_off"`
	StackOn         []uint64 `json:"memstats_stack_inuse_on"`
	MedianStackOff  uint64   `json:"median_memstats_stack_inuse_off"`
	MedianStackOn   uint64   `json:"median_memstats_stack_inuse_on"`
	StackDeltaBytes int64    `json:"stack_delta_bytes"` // on - off, of the medians
}

// Overhead is what -overhead writes: how much the sampler perturbs the run,
// from boundary rows only (which runs with the sampler off also have).
type Overhead struct {
	GoVersion        string          `json:"go_version"`
	GOMAXPROCS       int             `json:"gomaxprocs"`
	GODEBUG          string          `json:"godebug"`
	Race             bool            `json:"race"`
	IntervalNs       int64           `json:"interval_ns"`
	Reps             int             `json:"reps"`
	Method           string          `json:"method"`
	Scenarios        []string        `json:"scenarios"`
	TotalWallOffNs   []int64         `json:"total_wall_off_ns"`
	TotalWallOnNs    []int64         `json:"total_wall_on_ns"`
	MedianTotalOffNs int64           `json:"median_total_wall_off_ns"`
	MedianTotalOnNs  int64           `json:"median_total_wall_on_ns"`
	MinTotalOffNs    int64           `json:"min_total_wall_off_ns"`
	MinTotalOnNs     int64           `json:"min_total_wall_on_ns"`
	TotalDeltaPct    float64         `json:"total_wall_delta_pct"`
	GCCyclesOff      []uint64        `json:"gc_cycles_off"` // GC cycles during each run
	GCCyclesOn       []uint64        `json:"gc_cycles_on"`
	SamplesOn        []int           `json:"samples_on"`
	SamplerOn        []IntervalStats `json:"sampler_on"`
	Phases           []OverheadPhase `json:"phases"`
}

const overheadMethod = "each run is a fresh process (the program re-executes itself), so no run " +
	"inherits another's freed stacks, cached G stacks or adaptive starting stack size; reps x " +
	"{sampler off, sampler on}, order alternating per rep (off,on then on,off); compares medians " +
	"(and minima, less sensitive to other load) of phase wall times and of the boundary " +
	"MemStats.StackInuse"

// CompareOverhead compares runs with the sampler off against runs with it on,
// from what both record: phase wall times and boundary MemStats.StackInuse.
func CompareOverhead(off, on []*Meta) (*Overhead, error) {
	if len(off) == 0 || len(off) != len(on) {
		return nil, fmt.Errorf("overhead needs as many runs off as on, and at least one: %d, %d", len(off), len(on))
	}
	ref := on[0]
	o := &Overhead{
		GoVersion: ref.GoVersion, GOMAXPROCS: ref.GOMAXPROCS, GODEBUG: ref.GODEBUG, Race: ref.Race,
		IntervalNs: ref.Sampler.RequestedNs, Reps: len(on), Method: overheadMethod, Scenarios: ref.Scenarios,
	}
	for _, s := range ref.Phases {
		o.Phases = append(o.Phases, OverheadPhase{Scenario: s.Scenario, Phase: s.Phase})
	}
	add := func(m *Meta, sampler bool) error {
		if len(m.Phases) != len(o.Phases) {
			return fmt.Errorf("runs differ in phases: %d vs %d", len(m.Phases), len(o.Phases))
		}
		for i := range m.Phases {
			s, p := &m.Phases[i], &o.Phases[i]
			if sampler {
				p.WallOnNs = append(p.WallOnNs, s.WallNs)
				p.StackOn = append(p.StackOn, s.EndMemStats)
			} else {
				p.WallOffNs = append(p.WallOffNs, s.WallNs)
				p.StackOff = append(p.StackOff, s.EndMemStats)
			}
		}
		if sampler {
			o.TotalWallOnNs = append(o.TotalWallOnNs, m.TotalWallNs)
			o.GCCyclesOn = append(o.GCCyclesOn, gcCycles(m.Phases))
			o.SamplesOn = append(o.SamplesOn, m.Sampler.Samples)
			o.SamplerOn = append(o.SamplerOn, m.Sampler)
		} else {
			o.TotalWallOffNs = append(o.TotalWallOffNs, m.TotalWallNs)
			o.GCCyclesOff = append(o.GCCyclesOff, gcCycles(m.Phases))
		}
		return nil
	}
	for i := range off {
		if err := add(off[i], false); err != nil {
			return nil, err
		}
		if err := add(on[i], true); err != nil {
			return nil, err
		}
	}
	for i := range o.Phases {
		p := &o.Phases[i]
		p.MedianWallOffNs, p.MedianWallOnNs = median(p.WallOffNs), median(p.WallOnNs)
		p.MinWallOffNs, p.MinWallOnNs = slices.Min(p.WallOffNs), slices.Min(p.WallOnNs)
		p.WallDeltaPct = deltaPct(p.MedianWallOffNs, p.MedianWallOnNs)
		p.MedianStackOff, p.MedianStackOn = median(p.StackOff), median(p.StackOn)
		p.StackDeltaBytes = int64(p.MedianStackOn) - int64(p.MedianStackOff)
	}
	o.MedianTotalOffNs, o.MedianTotalOnNs = median(o.TotalWallOffNs), median(o.TotalWallOnNs)
	o.MinTotalOffNs, o.MinTotalOnNs = slices.Min(o.TotalWallOffNs), slices.Min(o.TotalWallOnNs)
	o.TotalDeltaPct = deltaPct(o.MedianTotalOffNs, o.MedianTotalOnNs)
	return o, nil
}

// gcCycles is the number of GC cycles between the first and last phase end.
func gcCycles(phases []PhaseSummary) uint64 {
	var first, last *uint64
	for i := range phases {
		if c := phases[i].EndGCCycles; c != nil {
			if first == nil {
				first = c
			}
			last = c
		}
	}
	if first == nil {
		return 0
	}
	return *last - *first
}

// median is the lower median, so it is always one of the observed values.
func median[T int64 | uint64](v []T) T {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

func deltaPct(off, on int64) float64 {
	if off == 0 {
		return 0
	}
	return 100 * float64(on-off) / float64(off)
}
