package lintdrill

import (
	"testing"
)

// Sinks keep results alive so nothing is optimised away.
var (
	sinkI    int
	sinkInts []int
	payload  = make([]byte, 100)
	ints     = make([]int, 100)
	settings = Settings{Name: "lab"}
	nSquares = 100
)

type pair struct {
	name          string
	before, after func()
	wantAfter     float64 // allocations of one after call, on every release
}

var drills = []pair{
	{"SA6002", func() { sinkI = PoolPutBefore(payload) }, func() { sinkI = PoolPut(payload) }, 0},
	{"hugeParam", func() { PublishBefore(settings) }, func() { Publish(&settings) }, 0},
	{"prealloc", func() { sinkInts = DoubledBefore(ints) }, func() { sinkInts = Doubled(ints) }, 1},
	{"makezero", func() { sinkInts = SquaresBefore(nSquares) }, func() { sinkInts = Squares(nSquares) }, 1},
}

func drill(name string) pair {
	for _, d := range drills {
		if d.name == name {
			return d
		}
	}
	panic("no drill " + name)
}

// TestFixesAllocateLess pins, for every release, the fix's allocation count
// and that the flagged version costs more. The exact "before" count is left
// to the benchmark data: growth strategies differ between releases.
func TestFixesAllocateLess(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts (sync.Pool drops items at random)")
	}
	for _, d := range drills {
		before := testing.AllocsPerRun(100, d.before)
		after := testing.AllocsPerRun(100, d.after)
		t.Logf("%s: before %v allocs/call, after %v", d.name, before, after)
		if after != d.wantAfter {
			t.Errorf("%s: fix allocates %v per call, want %v", d.name, after, d.wantAfter)
		}
		if before <= after {
			t.Errorf("%s: flagged version allocates %v per call, fix %v: no cost shown", d.name, before, after)
		}
	}
}

// TestMakezeroIsABug shows the makezero finding is about results, too.
func TestMakezeroIsABug(t *testing.T) {
	got, want := SquaresBefore(4), Squares(4)
	if len(got) != 8 || len(want) != 4 || got[0] != 0 || got[5] != want[1] {
		t.Fatalf("SquaresBefore(4) = %v, Squares(4) = %v", got, want)
	}
}

// TestFixesKeepResults checks each fix computes what the flagged code does.
func TestFixesKeepResults(t *testing.T) {
	in := []int{1, 2, 3}
	if a, b := DoubledBefore(in), Doubled(in); len(a) != len(b) || a[2] != b[2] || b[2] != 6 {
		t.Fatalf("Doubled: %v vs %v", a, b)
	}
	if a, b := PoolPutBefore(payload), PoolPut(payload); a != b || a != len(payload) {
		t.Fatalf("PoolPut: %d vs %d", a, b)
	}
	Publish(&settings)
	PublishBefore(settings)
	if published.Load().(Settings).Name != publishedPtr.Load().(*Settings).Name {
		t.Fatal("Publish stored different settings")
	}
}

func beforeAfter(b *testing.B, d pair) {
	b.Run("before", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d.before()
		}
	})
	b.Run("after", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			d.after()
		}
	})
}

// BenchmarkSA6002 proves putting a []byte into sync.Pool costs 1 alloc/op
// (the interface box) and a *[]byte costs none.
func BenchmarkSA6002(b *testing.B) { beforeAfter(b, drill("SA6002")) }

// BenchmarkHugeParam proves a 128-byte value stored in an interface is
// copied to the heap per call (1 alloc, 128 B/op); a pointer is not.
func BenchmarkHugeParam(b *testing.B) { beforeAfter(b, drill("hugeParam")) }

// BenchmarkPrealloc proves growing from nil costs one alloc per capacity
// doubling (about log2(100) for 100 ints) where make(..., 0, n) costs one.
func BenchmarkPrealloc(b *testing.B) { beforeAfter(b, drill("prealloc")) }

// BenchmarkMakezero proves make([]int, n) + append allocates twice (and
// returns 2n elements) where make([]int, 0, n) allocates once.
func BenchmarkMakezero(b *testing.B) { beforeAfter(b, drill("makezero")) }
