package cases

// A returns the address of a local: x must outlive A's frame, so the compiler
// moves it to the heap ("moved to heap: x"), one allocation per call.
//
//go:noinline
func A() *int { x := 7; return &x }

// AAfter returns the value itself: the int travels back in a register and
// nothing needs the heap.
//
//go:noinline
func AAfter() int { x := 7; return x }
