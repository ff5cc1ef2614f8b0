// Package cases holds the Week 4 escape-analysis cases A..G. Each case is
// the lab's code as written ("before") and a refactor that keeps the value on
// the stack ("after"); predictions.json says what the compiler decides for
// each and how many allocations one call costs.
//
// Every case function is marked //go:noinline: the predictions are about the
// function's own frame. An inlined copy is analysed again inside its caller,
// where the decision and the allocation count belong to the caller instead,
// and `go build -gcflags=-m` would print the case's lines twice.
//
// Keep each case in its own file and add new code at the end of a file: the
// pipeline keys compiler diagnostics by file and line.
package cases

import (
	"io"
	"os"
)

// Out is where the case bodies print. The tests and benchmarks set it to
// io.Discard before any case runs.
var Out io.Writer = os.Stdout
