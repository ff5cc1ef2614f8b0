package newgo

import "testing"

func BenchmarkMax(b *testing.B) {
	xs := make([]int, 256)
	for b.Loop() {
		Max(xs)
	}
}
