//go:build go1.26

package benchcap

import "testing"

// BenchmarkOnlyNew exists only for Go >= 1.26 toolchains (missing in the baseline column).
func BenchmarkOnlyNew(b *testing.B) {
	for i := 0; i < b.N; i++ {
		sinkInt ^= i
	}
}
