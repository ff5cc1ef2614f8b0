package cases

import (
	"bytes"
	"fmt"
)

// D builds a string in a bytes.Buffer and prints it. The Buffer struct itself
// stays on the stack, but its backing array (grown inside bytes.Buffer),
// the string copy made by String() and the interface box fmt needs all come
// from the heap.
//
//go:noinline
func D() { x := bytes.Buffer{}; x.WriteString("hi"); _, _ = fmt.Fprintln(Out, x.String()) }

// DAfter appends into a buffer the caller provides and returns it: no
// bytes.Buffer, no string copy, no fmt. The caller reuses one buffer and
// writes it out when it chooses.
//
//go:noinline
func DAfter(dst []byte) []byte { dst = append(dst, "hi"...); return append(dst, '\n') }
