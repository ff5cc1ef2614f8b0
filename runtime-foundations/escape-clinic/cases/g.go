package cases

// Summer is implemented by adder; G calls it through the interface.
type Summer interface{ Sum(p []int) int }

type adder struct{}

// Sum only reads p, so a direct call leaves p on the caller's stack.
func (adder) Sum(p []int) int {
	t := 0
	for _, v := range p {
		t += v
	}
	return t
}

// Adder returns the concrete implementation as the interface, as a
// constructor in another package would.
func Adder() Summer { return adder{} }

// G calls Sum through an interface value whose dynamic type the compiler
// cannot see: any implementation might keep p, so buf escapes to the heap.
//
//go:noinline
func G(s Summer) int {
	buf := make([]int, 8)
	return s.Sum(buf)
}

// GAfter takes the concrete type: the call is static, Sum's parameter tag
// says p does not escape, and buf stays on the stack.
//
//go:noinline
func GAfter(s adder) int {
	buf := make([]int, 8)
	return s.Sum(buf)
}

// GDevirt calls through an interface whose dynamic type is visible in the
// same function: the compiler devirtualizes s.Sum to adder.Sum, and whether
// buf then stays on the stack depends on the order of devirtualization and
// escape analysis in the release.
//
//go:noinline
func GDevirt() int {
	var s Summer = adder{}
	buf := make([]int, 8)
	return s.Sum(buf)
}
