package cases

import "testing"

// beforeAfter runs the lab's code and its refactor as sub-benchmarks named
// "before" and "after", so -benchmem shows the difference side by side.
// Both go through a func value, so the call overhead is the same.
func beforeAfter(b *testing.B, before, after func()) {
	b.Run("before", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			before()
		}
	})
	b.Run("after", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			after()
		}
	})
}

// BenchmarkA proves returning a value instead of &x removes the 1 alloc/op.
func BenchmarkA(b *testing.B) { beforeAfter(b, calls["A()"], calls["AAfter()"]) }

// BenchmarkB proves a caller-provided destination removes the 1 alloc/op.
func BenchmarkB(b *testing.B) { beforeAfter(b, calls["B()"], calls["BAfter(&v)"]) }

// BenchmarkC proves feeding a running goroutine costs no closure allocation,
// unlike starting a goroutine per value (each op waits for its work).
func BenchmarkC(b *testing.B) { beforeAfter(b, calls["C()"], calls["CAfter()"]) }

// BenchmarkD proves appending into a caller's buffer avoids the 3 allocs/op
// of bytes.Buffer + String() + fmt.
func BenchmarkD(b *testing.B) { beforeAfter(b, calls["D()"], calls["DAfter(buf)"]) }

// BenchmarkE proves make([]int, 8) passed to a non-escaping parameter is
// already as free as an array: both 0 allocs/op.
func BenchmarkE(b *testing.B) { beforeAfter(b, calls["ECall()"], calls["EAfter()"]) }

// BenchmarkEVar proves a fixed array removes the heap slice a non-constant
// make needs (1 alloc/op for n=8 on every release).
func BenchmarkEVar(b *testing.B) { beforeAfter(b, calls["EVar(8)"], calls["EVarAfter(8)"]) }

// BenchmarkEVar4 shows the release difference: EVar(4) allocates until 1.24
// and fits Go 1.25's 32-byte stack buffer from 1.25 on.
func BenchmarkEVar4(b *testing.B) { beforeAfter(b, calls["EVar(4)"], calls["EVarAfter(4)"]) }

// BenchmarkF proves boxing a run-time int >= 256 costs 1 alloc/op and
// returning the concrete type costs none.
func BenchmarkF(b *testing.B) { beforeAfter(b, calls["FVar(1000)"], calls["FVarAfter(1000)"]) }

// BenchmarkFConst proves "7 escapes to heap" allocates nothing: constants
// (7 and 256 alike) are boxed as static data.
func BenchmarkFConst(b *testing.B) {
	beforeAfter(b, func() { sinkAny = F(); sinkAny = F256() }, calls["FAfter()"])
}

// BenchmarkFSmall proves run-time values in 0..255 box for free
// (runtime.staticuint64s).
func BenchmarkFSmall(b *testing.B) { beforeAfter(b, calls["FVar(7)"], calls["FVarAfter(7)"]) }

// BenchmarkFLocal shows the release difference: a variable holding a
// constant is boxed with an allocation until 1.24 and as static data from 1.25.
func BenchmarkFLocal(b *testing.B) { beforeAfter(b, calls["FLocal()"], calls["FAfter()"]) }

// BenchmarkG proves a call on the concrete type keeps the argument on the
// stack, while a call through an opaque interface costs 1 alloc/op.
func BenchmarkG(b *testing.B) { beforeAfter(b, calls["G(Adder())"], calls["GAfter(adder{})"]) }

// BenchmarkGDevirt proves an interface call the compiler can devirtualize
// is as free as the concrete call.
func BenchmarkGDevirt(b *testing.B) { beforeAfter(b, calls["G(Adder())"], calls["GDevirt()"]) }
