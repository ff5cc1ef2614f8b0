package sumgo

import "testing"

var sink int

func BenchmarkSum(b *testing.B) {
	xs := make([]int, 256)
	for i := 0; i < b.N; i++ {
		sink = Sum(xs)
	}
}

func BenchmarkWindow(b *testing.B) {
	xs := make([]int, 256)
	for i := 0; i < b.N; i++ {
		sink = Window(xs, 16)
	}
}
