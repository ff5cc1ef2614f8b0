package lab

import (
	"fmt"
	"testing"
)

// benchSink keeps every recursion result alive past the benchmark loop.
var benchSink int

func noop() {}

// BenchmarkStackGrowth proves what growing a stack by copying costs: the same
// deep call on a fresh goroutine (starting stack, grown by copying, doubling
// each time, on the way down) against a goroutine whose stack was grown
// before timing. "spawn" is a fresh goroutine with a depth-1 call, the
// goroutine start and handoff cost that "fresh" includes and "warm" does not.
func BenchmarkStackGrowth(b *testing.B) {
	cases := []struct {
		frame, depth int
	}{
		{64, 512},   // ~64 KiB of frames: 5 doublings from 2 KiB
		{1024, 128}, // ~128 KiB of frames in few, large frames
	}
	for _, c := range cases {
		f, err := RecurserFor(c.frame)
		if err != nil {
			b.Fatal(err)
		}
		prefix := fmt.Sprintf("frame=%d/depth=%d", c.frame, c.depth)
		b.Run(prefix+"/fresh", func(b *testing.B) { benchFresh(b, f, c.depth) })
		b.Run(prefix+"/warm", func(b *testing.B) { benchWarm(b, f, c.depth) })
		b.Run(prefix+"/spawn", func(b *testing.B) { benchFresh(b, f, 1) })
	}
}

func benchFresh(b *testing.B, f Recurser, depth int) {
	done := make(chan int)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		go func() { done <- f(depth, noop) }()
		benchSink += <-done
	}
}

func benchWarm(b *testing.B, f Recurser, depth int) {
	req := make(chan struct{})
	done := make(chan int)
	go func() {
		for range req {
			done <- f(depth, noop)
		}
	}()
	// Grow the worker's stack before timing. Nothing below allocates, so no
	// GC runs to shrink it back while it waits on req.
	req <- struct{}{}
	benchSink += <-done
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req <- struct{}{}
		benchSink += <-done
	}
	b.StopTimer()
	close(req)
}

// BenchmarkSamplerRead proves what one sample costs the sampler goroutine
// (the five runtime/metrics values, no allocation): at a 1 ms interval the
// sampler's CPU share is this time divided by 1 ms.
func BenchmarkSamplerRead(b *testing.B) {
	mr := newMetricReader(&DefaultMetricNames)
	var vals [NMetrics]uint64
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		benchSink += int(mr.read(&vals))
	}
}

// BenchmarkBoundaryRead proves what a boundary row costs: the same read plus
// runtime.ReadMemStats, which stops the world and flushes per-P caches.
func BenchmarkBoundaryRead(b *testing.B) {
	r := NewRecorder(0, &DefaultMetricNames)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.End()
		r.boundaries = r.boundaries[:0]
	}
}
