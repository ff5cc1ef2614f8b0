// Package escapecases exercises every kind of escape-analysis diagnostic the
// parsers in stages/formats recognise. It is compiled, never run.
package escapecases

import (
	"fmt"

	"example.com/escapecases/sub"
)

type point struct{ x, y int }

// Sink keeps values alive so the compiler cannot discard them.
var Sink any

// AddrOfLocal returns &x: x is moved to the heap.
func AddrOfLocal() *int {
	x := 42
	return &x
}

// NewPoint returns a composite literal's address: &point{} escapes.
func NewPoint(a, b int) *point {
	return &point{a, b}
}

// Counter's closure captures n by reference: n moves to the heap, the func literal escapes.
func Counter() func() int {
	n := 0
	return func() int {
		n++
		return n
	}
}

// CallNow's closure does not outlive the call: the func literal does not escape.
func CallNow() int {
	n := 1
	f := func() int { return n * 2 }
	return f()
}

// BoxConst boxes constants and small ints: "escapes to heap" without allocation.
func BoxConst() {
	Sink = 7
	Sink = "const"
	Sink = true
}

// BoxVar boxes a non-constant value: it escapes and allocates.
func BoxVar(v int) {
	Sink = v * 3
}

// SmallMake's slice stays on the stack; BigMake's escapes by size; VarMake's by unknown size.
func SmallMake() int {
	s := make([]int, 8)
	s[0] = 1
	return s[0] + len(s)
}

// BigMake allocates more than the stack limit.
func BigMake() int {
	s := make([]byte, 1<<20)
	return len(s)
}

// VarMake has a non-constant size.
func VarMake(n int) int {
	s := make([]int, n)
	return len(s)
}

// Identity leaks its parameter to the result.
func Identity(p *int) *int {
	return p
}

// Store leaks its parameter to a global.
func Store(p *int) {
	Sink = p
}

// First leaks the content of its parameter (the elements), not the slice header.
func First(s []*int) *int {
	return s[0]
}

// Len does not let its parameter escape.
func Len(s []int) int {
	return len(s)
}

// Print calls fmt.Println: inlining call, "... argument does not escape", boxing.
func Print(v int) {
	fmt.Println("value", v)
}

// Complex is too big to inline.
func Complex(n int) int {
	t := 0
	for i := 0; i < n; i++ {
		switch {
		case i%3 == 0:
			t += i * 2
		case i%5 == 0:
			t -= i / 2
		case i%7 == 0:
			t ^= i << 1
		default:
			t += sub.Twice(i)
		}
		if t > 1000 {
			t = t % 97
		}
		for j := 0; j < i%4; j++ {
			t += j * i
			if t%11 == 0 {
				t--
			}
		}
	}
	return t
}

// NoInline is marked go:noinline.
//
//go:noinline
func NoInline(x int) int { return x + 1 }

// Recursive cannot be inlined because it calls itself.
func Recursive(n int) int {
	if n <= 1 {
		return 1
	}
	return n * Recursive(n-1)
}

// UseSub inlines sub.Wrap, so escape diagnostics appear at inlined positions.
func UseSub(v int) *sub.Box {
	return sub.Wrap(v)
}

// UseSubLocal inlines sub.Wrap and sub.Keep, the box stays local.
func UseSubLocal(v int) int {
	b := sub.Wrap(v)
	return sub.Keep(b)
}

// Method receivers: value receiver leaks, pointer receiver does not escape.
func (p *point) Sum() int { return p.x + p.y }

// Self leaks the receiver to the result.
func (p *point) Self() *point { return p }

// Iface converts a pointer to an interface: the pointer escapes.
func Iface(p *point) fmt.Stringer {
	return stringer{p}
}

type stringer struct{ p *point }

func (s stringer) String() string { return fmt.Sprint(s.p.x) }

// Variadic passes a ... argument that does not escape.
func Variadic(xs ...int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// CallVariadic builds the implicit slice.
func CallVariadic() int {
	return Variadic(1, 2, 3)
}

// Deep moves a value through two levels of pointers.
func Deep(pp **int) int {
	return **pp
}

// LeakDeref stores the pointee of its parameter.
func LeakDeref(pp **int) {
	Sink = *pp
}

// UseEscape inlines sub.Escape, whose parameter moves to the heap inside the caller.
func UseEscape(v int) {
	sub.Escape(v)
}
