package benchcap

import (
	"strings"
	"testing"
)

var (
	sinkInt   int
	sinkSlice []int
	sinkStr   string
)

// BenchmarkSum: no allocations, stable time (exact units equal and zero).
func BenchmarkSum(b *testing.B) {
	xs := make([]int, 256)
	for i := range xs {
		xs[i] = i
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s := 0
		for _, x := range xs {
			s += x
		}
		sinkInt = s
	}
}

// BenchmarkJoin: a fixed number of allocations per op (exact units equal, non-zero).
func BenchmarkJoin(b *testing.B) {
	parts := []string{"go", "release", "lab", "bench"}
	for i := 0; i < b.N; i++ {
		sinkStr = strings.Join(parts, "/")
	}
}

// BenchmarkGrow: one slice grown across all iterations, so B/op depends on b.N
// (exact unit with unequal values across runs).
func BenchmarkGrow(b *testing.B) {
	var s []int
	for i := 0; i < b.N; i++ {
		s = append(s, i)
	}
	sinkSlice = s
}

// BenchmarkMetric: custom ReportMetric units, one constant and one timing-derived.
func BenchmarkMetric(b *testing.B) {
	xs := make([]int, 64)
	for i := 0; i < b.N; i++ {
		for j := range xs {
			xs[j] += j
		}
	}
	sinkInt = xs[3]
	b.ReportMetric(float64(len(xs)), "elems/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(xs)), "ns/elem")
}

// BenchmarkCopy: throughput via SetBytes (MB/s, higher is better).
func BenchmarkCopy(b *testing.B) {
	src := make([]byte, 4096)
	dst := make([]byte, 4096)
	b.SetBytes(int64(len(src)))
	for i := 0; i < b.N; i++ {
		copy(dst, src)
	}
	sinkInt = int(dst[0])
}

// BenchmarkFewFive runs only in rounds 1..5 (n=5: CI needs >= 6 samples).
func BenchmarkFewFive(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sinkStr = strings.Repeat("x", 16)
	}
}

// BenchmarkFewThree runs only in rounds 1..3 (n=3: too few to detect a difference).
func BenchmarkFewThree(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sinkInt += i
	}
}
