package cases

import (
	"fmt"
	"strconv"
	"sync"
)

// Pending counts the goroutines C and CAfter have handed work to; callers
// Wait on it so a benchmark or test does not leave work running.
var Pending sync.WaitGroup

// C starts a goroutine per call. The goroutine outlives C's frame, so the
// closure (a func value holding x) is heap-allocated; x itself is captured by
// value (it is never reassigned), so x is not moved to the heap.
//
//go:noinline
func C() {
	x := 7
	Pending.Add(1)
	go func() {
		defer Pending.Done()
		_, _ = fmt.Fprintln(Out, x)
	}()
}

// work feeds the one long-lived printer goroutine that CAfter uses.
var (
	work     chan int
	workOnce sync.Once
)

func startWorker() {
	work = make(chan int, 64)
	go printer(work)
}

// printer formats into a reused buffer instead of calling fmt per value.
func printer(in <-chan int) {
	var buf []byte
	for v := range in {
		buf = strconv.AppendInt(buf[:0], int64(v), 10)
		buf = append(buf, '\n')
		_, _ = Out.Write(buf)
		Pending.Done()
	}
}

// CAfter sends the value to a goroutine that already runs: a channel send
// copies the int into the channel's buffer, so there is no closure to
// allocate and nothing of CAfter's frame has to outlive it.
//
//go:noinline
func CAfter() {
	workOnce.Do(startWorker)
	x := 7
	Pending.Add(1)
	work <- x
}
