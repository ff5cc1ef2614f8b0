// Command schedule-forensics runs labeled scheduling workloads under runtime/trace and
// records what the runtime says about them: the trace (one task per workload), /sched/
// runtime/metrics snapshots, and the latency of every request of the serve workload.
//
// Output goes only to the paths given by -trace, -metrics and -requests.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/trace"
	"time"

	"github.com/go-release-lab/runtime-foundations/schedule-forensics/internal/forensics"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "schedule-forensics:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("schedule-forensics", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p forensics.Params
	fs.DurationVar(&p.Duration, "duration", 200*time.Millisecond, "how long each workload runs")
	fs.IntVar(&p.Goroutines, "goroutines", 0, "busy goroutines per workload (0: 4*GOMAXPROCS)")
	fs.IntVar(&p.Intensity, "intensity", 1, "work per operation: request service time, allocation size, syscall message size, sleeps per tick")
	list := fs.String("workloads", "all", "comma-separated workloads to run, in order (all: "+workloadNames()+")")
	tracePath := fs.String("trace", "", "write the runtime/trace of the whole run to this path")
	metricsPath := fs.String("metrics", "", "write the /sched/ runtime/metrics snapshots (JSON) to this path")
	requestsPath := fs.String("requests", "", "write request latencies (CSV: "+forensics.RequestsHeader+") to this path")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if p.Duration <= 0 || p.Goroutines < 0 || p.Intensity < 0 {
		return fmt.Errorf("-duration must be > 0, -goroutines and -intensity >= 0")
	}
	ws, err := forensics.Select(*list)
	if err != nil {
		return err
	}

	origin := time.Now()
	rec := forensics.NewRequestLog(origin)
	var report forensics.Report
	work := func() error {
		report = forensics.RunAll(context.Background(), ws, p, origin, rec)
		return nil
	}
	if *tracePath != "" {
		err = writeAtomic(*tracePath, func(w io.Writer) error {
			if err := trace.Start(w); err != nil {
				return err
			}
			defer trace.Stop()
			return work()
		})
	} else {
		err = work()
	}
	if err != nil {
		return err
	}
	if *metricsPath != "" {
		err := writeAtomic(*metricsPath, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", " ")
			return enc.Encode(report)
		})
		if err != nil {
			return err
		}
	}
	if *requestsPath != "" {
		err := writeAtomic(*requestsPath, func(w io.Writer) error {
			return forensics.WriteRequestsCSV(w, rec.Rows())
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func workloadNames() string {
	s := ""
	for i, w := range forensics.Workloads() {
		if i > 0 {
			s += ","
		}
		s += w.Name
	}
	return s
}

// writeAtomic writes through fill to a temporary file beside path and renames it into
// place only if fill and the close succeed, so a failed run leaves no partial output.
func writeAtomic(path string, fill func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	// CreateTemp makes the file 0600; outputs are ordinary files others read.
	if err = f.Chmod(0o644); err != nil {
		_ = f.Close()
		_ = os.Remove(f.Name())
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close() // already failing; the first error is the one to report
			_ = os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}
