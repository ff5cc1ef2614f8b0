// Each frame size is its own function: an array's size must be a
// compile-time constant, so one generic recursive function cannot vary it.

package lab

import (
	"fmt"
	"sort"
	"strings"
)

// Recurser recurses depth levels (depth >= 1), each level holding a real
// local array of the function's frame size, calls leaf at the bottom and
// returns a value derived from every frame so nothing is dead code.
type Recurser func(depth int, leaf func()) int

// recursers maps a frame's array size in bytes to its recursive function.
var recursers = map[int]Recurser{
	64:   rec64,
	128:  rec128,
	256:  rec256,
	512:  rec512,
	1024: rec1024,
	2048: rec2048,
	4096: rec4096,
}

// FrameSizes lists the frame array sizes that have a recursive function.
func FrameSizes() []int {
	sizes := make([]int, 0, len(recursers))
	for s := range recursers {
		sizes = append(sizes, s)
	}
	sort.Ints(sizes)
	return sizes
}

// RecurserFor returns the recursive function whose frames hold size bytes.
func RecurserFor(size int) (Recurser, error) {
	r, ok := recursers[size]
	if !ok {
		s := make([]string, 0, len(recursers))
		for _, v := range FrameSizes() {
			s = append(s, fmt.Sprint(v))
		}
		return nil, fmt.Errorf("frame size %d not available (have %s)", size, strings.Join(s, ", "))
	}
	return r, nil
}

// rec64 keeps a [64]byte array live in every frame. go:noinline and the
// non-tail recursion keep the compiler from merging or removing frames; the
// variable indices keep the array in memory rather than in registers.
//
//go:noinline
func rec64(depth int, leaf func()) int {
	var buf [64]byte
	buf[depth&63] = byte(depth)
	if depth <= 1 {
		leaf()
		return int(buf[depth&63])
	}
	return rec64(depth-1, leaf) + int(buf[(depth*7)&63])
}

// rec128 keeps a [128]byte array live in every frame. go:noinline and the
// non-tail recursion keep the compiler from merging or removing frames; the
// variable indices keep the array in memory rather than in registers.
//
//go:noinline
func rec128(depth int, leaf func()) int {
	var buf [128]byte
	buf[depth&127] = byte(depth)
	if depth <= 1 {
		leaf()
		return int(buf[depth&127])
	}
	return rec128(depth-1, leaf) + int(buf[(depth*7)&127])
}

// rec256 keeps a [256]byte array live in every frame. go:noinline and the
// non-tail recursion keep the compiler from merging or removing frames; the
// variable indices keep the array in memory rather than in registers.
//
//go:noinline
func rec256(depth int, leaf func()) int {
	var buf [256]byte
	buf[depth&255] = byte(depth)
	if depth <= 1 {
		leaf()
		return int(buf[depth&255])
	}
	return rec256(depth-1, leaf) + int(buf[(depth*7)&255])
}

// rec512 keeps a [512]byte array live in every frame. go:noinline and the
// non-tail recursion keep the compiler from merging or removing frames; the
// variable indices keep the array in memory rather than in registers.
//
//go:noinline
func rec512(depth int, leaf func()) int {
	var buf [512]byte
	buf[depth&511] = byte(depth)
	if depth <= 1 {
		leaf()
		return int(buf[depth&511])
	}
	return rec512(depth-1, leaf) + int(buf[(depth*7)&511])
}

// rec1024 keeps a [1024]byte array live in every frame. go:noinline and the
// non-tail recursion keep the compiler from merging or removing frames; the
// variable indices keep the array in memory rather than in registers.
//
//go:noinline
func rec1024(depth int, leaf func()) int {
	var buf [1024]byte
	buf[depth&1023] = byte(depth)
	if depth <= 1 {
		leaf()
		return int(buf[depth&1023])
	}
	return rec1024(depth-1, leaf) + int(buf[(depth*7)&1023])
}

// rec2048 keeps a [2048]byte array live in every frame. go:noinline and the
// non-tail recursion keep the compiler from merging or removing frames; the
// variable indices keep the array in memory rather than in registers.
//
//go:noinline
func rec2048(depth int, leaf func()) int {
	var buf [2048]byte
	buf[depth&2047] = byte(depth)
	if depth <= 1 {
		leaf()
		return int(buf[depth&2047])
	}
	return rec2048(depth-1, leaf) + int(buf[(depth*7)&2047])
}

// rec4096 keeps a [4096]byte array live in every frame. go:noinline and the
// non-tail recursion keep the compiler from merging or removing frames; the
// variable indices keep the array in memory rather than in registers.
//
//go:noinline
func rec4096(depth int, leaf func()) int {
	var buf [4096]byte
	buf[depth&4095] = byte(depth)
	if depth <= 1 {
		leaf()
		return int(buf[depth&4095])
	}
	return rec4096(depth-1, leaf) + int(buf[(depth*7)&4095])
}
