// Package bad holds the four lint-drill pathologies, unfixed and without
// suppressions, so golangci-lint reports each one. It is its own module
// under testdata/ so `./...` in the lab never sees it. EXPECTED lists the
// findings; ../../lintdrill.go has the measured copies and the fixes.
package bad

import (
	"sync"
	"sync/atomic"
)

var bufPool = sync.Pool{New: func() any { return make([]byte, 0, 512) }}

// PoolPut returns a []byte to a sync.Pool: Put takes an interface, and
// boxing a slice header allocates on every call (staticcheck SA6002).
func PoolPut(p []byte) int {
	b := bufPool.Get().([]byte)
	b = append(b[:0], p...)
	n := len(b)
	bufPool.Put(b)
	return n
}

// Settings is 128 bytes, above gocritic hugeParam's 80-byte threshold.
type Settings struct {
	Name   string
	Limits [14]int64
}

var current atomic.Value

// Publish takes the settings by value: every call copies 128 bytes, and
// storing the copy in an interface allocates it (gocritic hugeParam).
func Publish(s Settings) {
	current.Store(s)
}

// Doubled grows its result by appending from nil: about log2(n) allocations
// where one would do (prealloc).
func Doubled(in []int) []int {
	var out []int
	for _, v := range in {
		out = append(out, 2*v)
	}
	return out
}

// Squares means make([]int, 0, n) but writes make([]int, n): the result
// starts with n zeros, and the appends reallocate (makezero).
func Squares(n int) []int {
	out := make([]int, n)
	for i := 0; i < n; i++ {
		out = append(out, i*i)
	}
	return out
}
