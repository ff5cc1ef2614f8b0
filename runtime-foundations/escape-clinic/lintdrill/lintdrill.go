// Package lintdrill is the Week 4.4 lint drill: four patterns that linters
// flag because they cost allocations, each as measured "Before" code and a
// fix. The Before functions repeat testdata/bad/bad.go with a nolint
// directive naming the finding, so this package stays lint-clean while the
// benchmarks can still show what each pathology costs; testdata/bad (its own
// module, never matched by ./...) is what golangci-lint is run on.
package lintdrill

import (
	"sync"
	"sync/atomic"
)

// --- staticcheck SA6002: sync.Pool.Put given a non-pointer ---

var slicePool = sync.Pool{New: func() any { return make([]byte, 0, 512) }}

// PoolPutBefore keeps []byte values in the pool: Put's parameter is an
// interface, and boxing a slice header allocates 24 bytes on every call.
func PoolPutBefore(p []byte) int {
	b := slicePool.Get().([]byte)
	b = append(b[:0], p...)
	n := len(b)
	slicePool.Put(b) //nolint:staticcheck // SA6002 is the measured pathology
	return n
}

var ptrPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// PoolPut keeps *[]byte values: a pointer fits in the interface word, so Put
// boxes nothing; a grown slice is written back through the pointer.
func PoolPut(p []byte) int {
	bp := ptrPool.Get().(*[]byte)
	*bp = append((*bp)[:0], p...)
	n := len(*bp)
	ptrPool.Put(bp)
	return n
}

// --- gocritic hugeParam: a large struct passed by value ---

// Settings is 128 bytes, above gocritic hugeParam's 80-byte threshold.
type Settings struct {
	Name   string
	Limits [14]int64
}

var published, publishedPtr atomic.Value

// PublishBefore takes the settings by value: every call copies 128 bytes,
// and storing the copy in an interface heap-allocates it.
func PublishBefore(s Settings) { //nolint:gocritic // hugeParam is the measured pathology
	published.Store(s)
}

// Publish takes a pointer: nothing is copied, and a pointer is stored in
// the interface without a box. The caller keeps one long-lived Settings.
func Publish(s *Settings) {
	publishedPtr.Store(s)
}

// --- prealloc: append in a loop to a slice that could be preallocated ---

// DoubledBefore grows its result from nil: one allocation per doubling of
// capacity where one would do.
func DoubledBefore(in []int) []int {
	var out []int //nolint:prealloc // the measured pathology
	for _, v := range in {
		out = append(out, 2*v)
	}
	return out
}

// Doubled allocates the final capacity once.
func Doubled(in []int) []int {
	out := make([]int, 0, len(in))
	for _, v := range in {
		out = append(out, 2*v)
	}
	return out
}

// --- makezero: append to a slice made with non-zero length ---

// SquaresBefore means make([]int, 0, n) but writes make([]int, n): the
// result has n leading zeros (a bug) and the appends reallocate.
func SquaresBefore(n int) []int {
	out := make([]int, n)
	for i := 0; i < n; i++ {
		out = append(out, i*i) //nolint:makezero // the measured pathology
	}
	return out
}

// Squares makes length 0 and capacity n: one allocation, n results.
func Squares(n int) []int {
	out := make([]int, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, i*i)
	}
	return out
}
