package lab

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scenario names, in the order Run executes them.
const (
	ScenarioDeep    = "deep"
	ScenarioWave    = "wave"
	ScenarioRelease = "release"
	ScenarioChurn   = "churn"
)

// AllScenarios is the default scenario list, in run order.
var AllScenarios = []string{ScenarioDeep, ScenarioWave, ScenarioRelease, ScenarioChurn}

// Config holds every knob of a run.
type Config struct {
	Scenarios  []string      // subset of AllScenarios; run in AllScenarios order
	N          int           // goroutines per wave
	Depth      int           // recursion depth of wave and churn goroutines
	DeepDepth  int           // final depth of the deep scenario
	FrameSmall int           // frame array bytes: wave, churn, deep_small
	FrameLarge int           // frame array bytes: deep_large
	Interval   time.Duration // sampler interval; 0 turns the sampler off
	Hold       time.Duration // pause at each deep step and at the end of a phase
	Churn      int           // short-lived goroutines in total (half cold, half warm)
	ChurnBatch int           // churn goroutines alive at once
	GCs        int           // runtime.GC calls after unwind and after exit
	Metrics    [NMetrics]string
}

// DefaultConfig is sized for about a second per run on a 2-core machine.
func DefaultConfig() Config {
	return Config{
		Scenarios:  append([]string(nil), AllScenarios...),
		N:          200,
		Depth:      500,
		DeepDepth:  8192,
		FrameSmall: 64,
		FrameLarge: 1024,
		Interval:   time.Millisecond,
		Hold:       5 * time.Millisecond,
		Churn:      4000,
		ChurnBatch: 100,
		GCs:        2,
		Metrics:    DefaultMetricNames,
	}
}

// ParseScenarios splits a comma list and checks each name.
func ParseScenarios(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if f == "all" {
			out = append(out, AllScenarios...)
			continue
		}
		ok := false
		for _, a := range AllScenarios {
			ok = ok || a == f
		}
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (have %s)", f, strings.Join(AllScenarios, ","))
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario in %q", s)
	}
	return out, nil
}

// ParseFrames reads "small,large" frame sizes in bytes.
func ParseFrames(s string) (small, large int, err error) {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return 0, 0, fmt.Errorf("-frame wants small,large (e.g. 64,1024), got %q", s)
	}
	if _, err := fmt.Sscan(parts[0], &small); err != nil {
		return 0, 0, fmt.Errorf("frame %q: %w", parts[0], err)
	}
	if _, err := fmt.Sscan(parts[1], &large); err != nil {
		return 0, 0, fmt.Errorf("frame %q: %w", parts[1], err)
	}
	return small, large, nil
}

func (c *Config) has(s string) bool {
	for _, x := range c.Scenarios {
		if x == s {
			return true
		}
	}
	return false
}

// Validate checks the knobs before anything runs.
func (c *Config) Validate() error {
	if len(c.Scenarios) == 0 {
		return fmt.Errorf("no scenarios")
	}
	if c.has(ScenarioRelease) && !c.has(ScenarioWave) {
		return fmt.Errorf("scenario release needs wave (it releases the wave's goroutines)")
	}
	if c.N < 1 || c.Depth < 1 || c.DeepDepth < 1 || c.Churn < 0 || c.ChurnBatch < 1 || c.GCs < 0 {
		return fmt.Errorf("n, depth, deep-depth, churn-batch must be >= 1 and churn, gcs >= 0")
	}
	if c.Interval < 0 || c.Hold < 0 {
		return fmt.Errorf("interval and hold must be >= 0")
	}
	if _, err := RecurserFor(c.FrameSmall); err != nil {
		return err
	}
	_, err := RecurserFor(c.FrameLarge)
	return err
}

// Result is what one run recorded.
type Result struct {
	Rows   []Row
	Phases []Phase
}

// Run executes the selected scenarios in order, each phase labeled.
func Run(cfg *Config) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	small, _ := RecurserFor(cfg.FrameSmall)
	large, _ := RecurserFor(cfg.FrameLarge)
	rec := NewRecorder(cfg.Interval, &cfg.Metrics)
	rec.End() // baseline boundary row of the "start" phase

	if cfg.has(ScenarioDeep) {
		deep(rec, cfg, "deep_small", small)
		deep(rec, cfg, "deep_large", large)
	}
	var w *wave
	if cfg.has(ScenarioWave) {
		w = startWave(rec, cfg, small)
	}
	if cfg.has(ScenarioRelease) {
		w.release(rec, cfg)
	} else if w != nil {
		w.cleanup(rec)
	}
	if cfg.has(ScenarioChurn) {
		churn(rec, cfg, small)
	}
	rows := rec.Stop()
	return &Result{Rows: rows, Phases: rec.Phases}, nil
}

// deep grows one goroutine's stack step by step: depth doubles each step and
// the goroutine pauses at the bottom so the sampler sees each size. The
// stack only grows (by copying into one twice as large) while it runs; the
// phase ends with the deepest stack still held, then an _exit phase lets it go.
func deep(rec *Recorder, cfg *Config, name string, f Recurser) {
	rec.Begin(ScenarioDeep, name)
	atBottom := make(chan struct{})
	exit := make(chan struct{})
	done := make(chan int)
	go func() {
		s := 0
		for d := 16; ; d *= 2 {
			d = min(d, cfg.DeepDepth)
			last := d == cfg.DeepDepth
			s += f(d, func() {
				time.Sleep(cfg.Hold)
				if last {
					atBottom <- struct{}{}
					<-exit
				}
			})
			if last {
				break
			}
		}
		done <- s
	}()
	<-atBottom
	rec.End()
	rec.Begin(ScenarioDeep, name+"_exit")
	close(exit)
	keep(<-done)
	time.Sleep(cfg.Hold)
	rec.End()
}

// wave holds N goroutines parked at depth D until released.
type wave struct {
	unwind, exit    chan struct{}
	unwound, exited sync.WaitGroup
}

func startWave(rec *Recorder, cfg *Config, f Recurser) *wave {
	w := &wave{unwind: make(chan struct{}), exit: make(chan struct{})}
	var parked sync.WaitGroup
	rec.Begin(ScenarioWave, "wave_grow")
	parked.Add(cfg.N)
	w.unwound.Add(cfg.N)
	w.exited.Add(cfg.N)
	for i := 0; i < cfg.N; i++ {
		go func() {
			defer w.exited.Done()
			v := f(cfg.Depth, func() {
				parked.Done()
				<-w.unwind // parked at depth D: the whole stack is in use
			})
			w.unwound.Done()
			<-w.exit // parked at depth ~1 on a grown stack: GC may shrink it
			keep(v)
		}()
	}
	parked.Wait()
	rec.End()
	rec.Begin(ScenarioWave, "wave_hold")
	time.Sleep(cfg.Hold)
	rec.End()
	return w
}

// release first unwinds the wave's goroutines to a shallow depth and forces
// GCs (each GC halves a stack used under 1/4, so one halving per cycle), then
// lets them exit (grown stacks are freed on exit) and forces GCs again (which
// also free cached stack spans and recompute the starting stack size).
func (w *wave) release(rec *Recorder, cfg *Config) {
	rec.Begin(ScenarioRelease, "unwind")
	close(w.unwind)
	w.unwound.Wait()
	time.Sleep(cfg.Hold)
	rec.End()
	gcs(rec, cfg, "shrink_gc")
	rec.Begin(ScenarioRelease, "exit")
	close(w.exit)
	w.exited.Wait()
	time.Sleep(cfg.Hold)
	rec.End()
	gcs(rec, cfg, "exit_gc")
}

func gcs(rec *Recorder, cfg *Config, prefix string) {
	for i := 1; i <= cfg.GCs; i++ {
		rec.Begin(ScenarioRelease, fmt.Sprintf("%s%d", prefix, i))
		runtime.GC()
		time.Sleep(cfg.Hold)
		rec.End()
	}
}

// cleanup ends the wave without the release scenario's GCs.
func (w *wave) cleanup(rec *Recorder) {
	rec.Begin(ScenarioWave, "wave_cleanup")
	close(w.unwind)
	close(w.exit)
	w.exited.Wait()
	rec.End()
}

// churn runs many short-lived goroutines, each reaching depth D and exiting.
// The starting stack size (adaptivestackstart, Go 1.19+) is recomputed only
// at a GC, from the average stack in use by the goroutines it scanned; so
// churn_cold runs with whatever size the last GC chose, churn_gc forces one
// GC while a batch is parked at depth D, and churn_warm then starts new
// goroutines at that average, with fewer or no copies on the way down.
// With GODEBUG=adaptivestackstart=0 the size stays at the minimum (2 KiB).
func churn(rec *Recorder, cfg *Config, f Recurser) {
	cold := cfg.Churn / 2
	rec.Begin(ScenarioChurn, "churn_cold")
	churnRun(cfg, f, cold)
	rec.End()

	rec.Begin(ScenarioChurn, "churn_gc")
	var parked, done sync.WaitGroup
	release := make(chan struct{})
	n := cfg.ChurnBatch
	parked.Add(n)
	done.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			defer done.Done()
			v := f(cfg.Depth, func() {
				parked.Done()
				<-release
			})
			keep(v)
		}()
	}
	parked.Wait()
	runtime.GC()
	close(release)
	done.Wait()
	rec.End()

	rec.Begin(ScenarioChurn, "churn_warm")
	churnRun(cfg, f, cfg.Churn-cold)
	rec.End()
}

func churnRun(cfg *Config, f Recurser, total int) {
	var wg sync.WaitGroup
	for started := 0; started < total; {
		b := min(cfg.ChurnBatch, total-started)
		wg.Add(b)
		for i := 0; i < b; i++ {
			go func() {
				v := f(cfg.Depth, func() {})
				keep(v)
				wg.Done()
			}()
		}
		wg.Wait()
		started += b
	}
}

// sink keeps recursion results alive so no call is optimised away.
var sink atomic.Int64

func keep(v int) { sink.Add(int64(v)) }
