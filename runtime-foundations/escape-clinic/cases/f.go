package cases

// F boxes the constant 7 into an interface. The compiler reports "7 escapes
// to heap", but a constant's box is read-only static data: no allocation.
//
//go:noinline
func F() any { return 7 }

// F256 boxes a constant outside 0..255: still static data, still no
// allocation (the 0..255 table is a run-time trick for non-constants).
//
//go:noinline
func F256() any { return 256 }

// FVar boxes a value only known at run time: runtime.convT64 allocates
// 8 bytes, unless the value is in 0..255, which it takes from the runtime's
// staticuint64s table instead.
//
//go:noinline
func FVar(n int) any { return n }

// FLocal boxes a variable that always holds a constant. Whether the
// compiler sees through the variable depends on the release.
//
//go:noinline
func FLocal() any { x := 1000; return x }

// FAfter returns the concrete type: no interface, no box.
//
//go:noinline
func FAfter() int { return 7 }

// FVarAfter returns the concrete type for run-time values too.
//
//go:noinline
func FVarAfter(n int) int { return n }
