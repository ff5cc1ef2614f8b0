// Package forensics holds the schedule-forensics workloads and the records they produce:
// each workload is one runtime/trace task whose regions and logs name it, so a trace
// reader can attribute every scheduling wait to the workload that caused it.
package forensics

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Params are the knobs every workload reads.
type Params struct {
	// Duration is how long each workload runs.
	Duration time.Duration
	// Goroutines is the number of busy goroutines per workload; 0 means 4*GOMAXPROCS.
	Goroutines int
	// Intensity scales the work per operation (request service time, allocation size,
	// syscall message size, timers per goroutine); 0 means 1.
	Intensity int
}

// goroutines is the effective goroutine count: more than GOMAXPROCS by default so the
// CPU workload has run-queue waits and preemptions to show.
func (p Params) goroutines() int {
	if p.Goroutines > 0 {
		return p.Goroutines
	}
	return max(4, 4*runtime.GOMAXPROCS(0))
}

func (p Params) intensity() int {
	return max(1, p.Intensity)
}

// Workload is one named scheduling scenario.
type Workload struct {
	Name string
	Doc  string
	run  func(ctx context.Context, p Params, rec *RequestLog) int64
}

// Workloads lists every workload in the order a full run executes them.
func Workloads() []Workload {
	return []Workload{
		{"cpu", "CPU-bound goroutines outnumbering GOMAXPROCS: preemption and run-queue waits", runCPU},
		{"pingpong", "channel ping-pong between goroutine pairs: direct handoff", runPingPong},
		{"timers", "sleeps and tickers: timer wakeups", runTimers},
		{"syscall", "blocking reads on os.Pipe pairs: syscall exits and P handoff", runSyscall},
		{"alloc", "allocation-heavy goroutines: GC assists and stop-the-world pauses", runAlloc},
		{"serve", "in-process request queue served by a worker pool, with end-to-end latency", runServe},
	}
}

// Select returns the workloads named in a comma-separated list, in the list's order;
// an empty list or "all" selects every workload.
func Select(list string) ([]Workload, error) {
	all := Workloads()
	list = strings.TrimSpace(list)
	if list == "" || list == "all" {
		return all, nil
	}
	var out []Workload
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		found := false
		for _, w := range all {
			if w.Name == name {
				out = append(out, w)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown workload %q (known: %s)", name, names(all))
		}
		seen[name] = true
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workload selected by %q", list)
	}
	return out, nil
}

func names(ws []Workload) string {
	s := make([]string, 0, len(ws))
	for _, w := range ws {
		s = append(s, w.Name)
	}
	return strings.Join(s, ",")
}

// Run executes w as one trace task: the task, a "workload" log and the regions all carry
// the workload's name. It returns the number of operations done (kept so no work is
// optimised away, and reported in the metrics file).
func Run(ctx context.Context, w Workload, p Params, rec *RequestLog) int64 {
	ctx, task := trace.NewTask(ctx, w.Name)
	defer task.End()
	trace.Log(ctx, "workload", w.Name)
	trace.Logf(ctx, "params", "duration=%s goroutines=%d intensity=%d gomaxprocs=%d",
		p.Duration, p.goroutines(), p.intensity(), runtime.GOMAXPROCS(0))
	var ops int64
	trace.WithRegion(ctx, w.Name+"/run", func() {
		ops = w.run(ctx, p, rec)
	})
	return ops
}

// group starts n goroutines, each running body inside a region named after the workload
// and role, and waits for all of them. The region makes every wait of the goroutine
// attributable to the workload's task.
func group(ctx context.Context, n int, region string, body func(i int) int64) int64 {
	var wg sync.WaitGroup
	var total atomic.Int64
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) {
			defer wg.Done()
			trace.WithRegion(ctx, region, func() {
				total.Add(body(i))
			})
		}(i)
	}
	wg.Wait()
	return total.Load()
}

// spin does about n*1000 iterations of register-only work (a xorshift step): CPU time with
// no memory traffic, so the race detector does not slow it down.
func spin(n int, x uint64) uint64 {
	for i := 0; i < n*1000; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// runCPU keeps more goroutines busy than there are Ps; they never block, so every switch
// is a preemption and every resumption a run-queue wait.
func runCPU(ctx context.Context, p Params, _ *RequestLog) int64 {
	deadline := time.Now().Add(p.Duration)
	return group(ctx, p.goroutines(), "cpu/spin", func(i int) int64 {
		x := uint64(i) + 1
		var n int64
		for time.Now().Before(deadline) {
			x = spin(16, x)
			n++
		}
		sink.Store(x)
		return n
	})
}

// runPingPong bounces a token between pairs of goroutines over unbuffered channels: each
// send wakes the partner (a handoff) and parks the sender.
func runPingPong(ctx context.Context, p Params, _ *RequestLog) int64 {
	deadline := time.Now().Add(p.Duration)
	pairs := max(1, p.goroutines()/2)
	return group(ctx, pairs, "pingpong/pair", func(int) int64 {
		ping, pong := make(chan int), make(chan int)
		go trace.WithRegion(ctx, "pingpong/pong", func() {
			for v := range ping {
				pong <- v + 1
			}
		})
		v, n := 0, int64(0)
		for ; n&63 != 0 || time.Now().Before(deadline); n++ {
			ping <- v
			v = <-pong
		}
		close(ping)
		return n
	})
}

// runTimers wakes goroutines from sleeps and tickers of a few hundred microseconds.
func runTimers(ctx context.Context, p Params, _ *RequestLog) int64 {
	deadline := time.Now().Add(p.Duration)
	return group(ctx, p.goroutines(), "timers/wake", func(i int) int64 {
		t := time.NewTicker(time.Duration(200+50*(i%4)) * time.Microsecond)
		defer t.Stop()
		var n int64
		for time.Now().Before(deadline) {
			for j := 0; j < p.intensity(); j++ {
				time.Sleep(100 * time.Microsecond)
			}
			<-t.C
			n++
		}
		return n
	})
}

// runSyscall bounces a message between goroutine pairs over two pipes whose ends are in
// blocking mode, so each read is a system call that blocks its thread (not a netpoller
// park): syscall enter/exit, P handoff and the waits after returning from the syscall.
func runSyscall(ctx context.Context, p Params, _ *RequestLog) int64 {
	deadline := time.Now().Add(p.Duration)
	pairs := min(8, max(1, p.goroutines()/4))
	size := 64 * p.intensity()
	return group(ctx, pairs, "syscall/pair", func(int) int64 {
		n, err := pipePair(ctx, deadline, size)
		if err != nil {
			trace.Log(ctx, "error", err.Error())
		}
		return n
	})
}

func pipePair(ctx context.Context, deadline time.Time, size int) (int64, error) {
	r1, w1, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	r2, w2, err := os.Pipe()
	if err != nil {
		closeAll(r1, w1)
		return 0, err
	}
	// Fd puts a file into blocking mode: reads then block in the kernel.
	for _, f := range []*os.File{r1, w1, r2, w2} {
		f.Fd()
	}
	echoed := make(chan struct{})
	go trace.WithRegion(ctx, "syscall/echo", func() {
		defer close(echoed)
		buf := make([]byte, size)
		for {
			if _, err := readFull(r1, buf); err != nil {
				return // w1 closed: done
			}
			if _, err := w2.Write(buf); err != nil {
				return
			}
		}
	})
	buf := make([]byte, size)
	var n int64
	var ioErr error
	for ; n&15 != 0 || time.Now().Before(deadline); n++ {
		if _, ioErr = w1.Write(buf); ioErr != nil {
			break
		}
		if _, ioErr = readFull(r2, buf); ioErr != nil {
			break
		}
	}
	closeAll(w1)
	<-echoed
	closeAll(r1, r2, w2)
	return n, ioErr
}

func readFull(f *os.File, buf []byte) (int, error) {
	got := 0
	for got < len(buf) {
		m, err := f.Read(buf[got:])
		got += m
		if err != nil {
			return got, err
		}
	}
	return got, nil
}

func closeAll(fs ...*os.File) {
	for _, f := range fs {
		_ = f.Close() // pipes: nothing buffered to lose
	}
}

// runAlloc allocates quickly while keeping a small window alive: the heap stays near its
// minimum, so GC cycles (with their stop-the-world phases) come often and allocating
// goroutines are drafted into mark assists.
func runAlloc(ctx context.Context, p Params, _ *RequestLog) int64 {
	deadline := time.Now().Add(p.Duration)
	size := 256 * p.intensity()
	return group(ctx, p.goroutines(), "alloc/churn", func(i int) int64 {
		window := make([][]byte, 512)
		var n int64
		for ; n&255 != 0 || time.Now().Before(deadline); n++ {
			b := make([]byte, size+int(n%7)*16)
			b[0] = byte(n)
			window[int(n)%len(window)] = b
		}
		sinkBytes.Store(&window[i%len(window)])
		return n
	})
}

// runServe is a closed-loop request benchmark without a network: client goroutines put
// requests on a queue, a pool of GOMAXPROCS workers serves them (CPU work per request
// scaled by Intensity), and each client records the end-to-end latency of its requests.
func runServe(ctx context.Context, p Params, rec *RequestLog) int64 {
	deadline := time.Now().Add(p.Duration)
	type request struct {
		reply chan struct{}
	}
	queue := make(chan request, 64)
	workers := runtime.GOMAXPROCS(0)
	var served sync.WaitGroup
	served.Add(workers)
	for i := 0; i < workers; i++ {
		go func(i int) {
			defer served.Done()
			trace.WithRegion(ctx, "serve/worker", func() {
				x := uint64(i) + 1
				for req := range queue {
					x = spin(20*p.intensity(), x)
					req.reply <- struct{}{}
				}
				sink.Store(x)
			})
		}(i)
	}
	var nextID atomic.Int64
	n := group(ctx, p.goroutines(), "serve/client", func(int) int64 {
		req := request{reply: make(chan struct{})}
		var mine []Request
		for time.Now().Before(deadline) {
			start := time.Now()
			queue <- req
			<-req.reply
			mine = append(mine, Request{
				ID:      nextID.Add(1),
				Start:   start,
				Latency: time.Since(start),
			})
		}
		rec.Add("serve", mine)
		return int64(len(mine))
	})
	close(queue)
	served.Wait()
	return n
}

// Sinks keep workload results reachable so the compiler cannot drop the work.
var (
	sink      atomic.Uint64
	sinkBytes atomic.Pointer[[]byte]
)
