package cases

// E only reads len(s): its parameter is tagged "does not escape", and every
// caller's escape analysis uses that tag. It is not inlined so the tag, not
// inlining, is what keeps the caller's slice on the stack.
//
//go:noinline
func E(s []int) int { return len(s) }

// ECall is the lab's call E(make([]int, 8)): constant size, does not escape,
// so the 64-byte backing array lives on ECall's stack. No refactor needed.
//
//go:noinline
func ECall() int { return E(make([]int, 8)) }

// EAfter spells the same thing as an array: identical code and cost, the
// control that shows make with a constant size was already free.
//
//go:noinline
func EAfter() int { var a [8]int; return E(a[:]) }

// EVar makes a slice of non-constant size: the compiler cannot reserve a
// frame slot of unknown size, so the backing array goes to the heap.
//
//go:noinline
func EVar(n int) int { return E(make([]int, n)) }

// EVarAfter keeps a fixed-size array for the common small case and only
// falls back to the heap for large n.
//
//go:noinline
func EVarAfter(n int) int {
	var buf [8]int
	if n <= len(buf) {
		return E(buf[:n])
	}
	return E(make([]int, n))
}
