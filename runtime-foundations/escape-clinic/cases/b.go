package cases

// B is A with the address passed through a second variable: escape analysis
// follows the flow p <- &x -> result, so x is still moved to the heap.
//
//go:noinline
func B() *int { x := 7; p := &x; return p }

// BAfter writes into a destination the caller provides: dst only flows into a
// store, never out, so it does not escape and the caller's variable stays on
// the caller's stack.
//
//go:noinline
func BAfter(dst *int) { x := 7; *dst = x }
