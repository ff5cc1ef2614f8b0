// Command fakelab stands in for a lab binary that misbehaves: the first directory of its own
// path named "fault-MODE" says how. crash: a runtime panic (exit status 2). hang: sleeps an
// hour. garbage: prints noise where benchmark lines belong and writes noise into every file a
// -flag=PATH names. empty: prints nothing and creates every such file empty. Asked to
// -test.list benchmarks it names one, as a test binary does (nobench: none), and then
// misbehaves when it runs it.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func mode() string {
	for _, part := range strings.Split(filepath.ToSlash(os.Args[0]), "/") {
		if m, ok := strings.CutPrefix(part, "fault-"); ok {
			return m
		}
	}
	return ""
}

// outputs are the paths of -flag=/abs/path arguments: where a lab writes its results.
func outputs() []string {
	var paths []string
	for _, arg := range os.Args[1:] {
		if _, v, ok := strings.Cut(arg, "="); ok && filepath.IsAbs(v) {
			paths = append(paths, v)
		}
	}
	return paths
}

const noise = "\x00\x1b[31m\xff\xfe garbage \u2603 not a benchmark line\n%%%% 0xdeadbeef\n"

func main() {
	m := mode()
	for _, arg := range os.Args[1:] {
		if arg == "-test.list" {
			if m != "nobench" {
				fmt.Println("BenchmarkFake")
			}
			return
		}
	}
	switch m {
	case "crash":
		var table map[string]int
		table["x"]++ // assignment to entry in nil map
	case "hang":
		time.Sleep(time.Hour)
	case "garbage", "empty":
		content := ""
		if m == "garbage" {
			content = noise
			fmt.Print(noise + "PASS\n")
		}
		for _, p := range outputs() {
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	default:
		fmt.Fprintf(os.Stderr, "fakelab: no fault-MODE directory in %s\n", os.Args[0])
		os.Exit(1)
	}
}
