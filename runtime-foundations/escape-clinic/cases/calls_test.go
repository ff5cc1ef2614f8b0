package cases

import (
	"io"
	"os"
	"testing"
)

// Sinks keep every result alive so no call is optimised away.
var (
	sinkP     *int
	sinkI     int
	sinkAny   any
	sinkBytes []byte
)

// calls maps the "call" field of predictions.json to one call of that
// expression, as the allocation tests and the benchmarks make it. None of
// these closures captures anything, so they add no allocation of their own.
var calls = map[string]func(){
	"A()":             func() { sinkP = A() },
	"AAfter()":        func() { sinkI = AAfter() },
	"B()":             func() { sinkP = B() },
	"BAfter(&v)":      func() { var v int; BAfter(&v); sinkI = v },
	"C()":             func() { C(); Pending.Wait() },
	"CAfter()":        func() { CAfter(); Pending.Wait() },
	"D()":             D,
	"DAfter(buf)":     func() { sinkBytes = DAfter(sinkBytes[:0]) },
	"ECall()":         func() { sinkI = ECall() },
	"EAfter()":        func() { sinkI = EAfter() },
	"EVar(8)":         func() { sinkI = EVar(8) },
	"EVar(4)":         func() { sinkI = EVar(4) },
	"EVarAfter(8)":    func() { sinkI = EVarAfter(8) },
	"EVarAfter(4)":    func() { sinkI = EVarAfter(4) },
	"F()":             func() { sinkAny = F() },
	"F256()":          func() { sinkAny = F256() },
	"FVar(1000)":      func() { sinkAny = FVar(1000) },
	"FVar(7)":         func() { sinkAny = FVar(7) },
	"FLocal()":        func() { sinkAny = FLocal() },
	"FAfter()":        func() { sinkI = FAfter() },
	"FVarAfter(1000)": func() { sinkI = FVarAfter(1000) },
	"FVarAfter(7)":    func() { sinkI = FVarAfter(7) },
	"G(Adder())":      func() { sinkI = G(Adder()) },
	"GAfter(adder{})": func() { sinkI = GAfter(adder{}) },
	"GDevirt()":       func() { sinkI = GDevirt() },
}

func TestMain(m *testing.M) {
	// The cases print; keep test and benchmark output parseable.
	Out = io.Discard
	// DAfter appends into this buffer; give it room once, outside any loop.
	sinkBytes = make([]byte, 0, 64)
	os.Exit(m.Run())
}
