// Command stack-growth samples goroutine stack memory (StackInuse) over time
// while stacks grow, park, shrink and churn, one labeled phase at a time.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-release-lab/runtime-foundations/stack-growth/internal/lab"
)

func main() {
	if err := run(os.Args[1:]); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "stack-growth:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	d := lab.DefaultConfig()
	fs := flag.NewFlagSet("stack-growth", flag.ContinueOnError)
	scenarios := fs.String("scenarios", strings.Join(lab.AllScenarios, ","), "comma list of scenarios to run, in fixed order: deep,wave,release,churn (release needs wave)")
	fs.IntVar(&d.N, "n", d.N, "goroutines per wave")
	fs.IntVar(&d.Depth, "depth", d.Depth, "recursion depth of wave and churn goroutines")
	fs.IntVar(&d.DeepDepth, "deep-depth", d.DeepDepth, "final recursion depth of the deep scenario (doubling from 16)")
	frames := fs.String("frame", fmt.Sprintf("%d,%d", d.FrameSmall, d.FrameLarge), fmt.Sprintf("small,large frame array bytes, each one of %v", lab.FrameSizes()))
	fs.DurationVar(&d.Interval, "interval", d.Interval, "sampler interval (0: sampler off, boundary rows only)")
	fs.DurationVar(&d.Hold, "hold", d.Hold, "pause at each deep step and at the end of each phase")
	fs.IntVar(&d.Churn, "churn", d.Churn, "short-lived goroutines in the churn scenario (half before, half after a forced GC)")
	fs.IntVar(&d.ChurnBatch, "churn-batch", d.ChurnBatch, "churn goroutines alive at once")
	fs.IntVar(&d.GCs, "gcs", d.GCs, "runtime.GC calls after unwinding and after exiting the wave")
	out := fs.String("out", "", "CSV output path (required unless -overhead)")
	meta := fs.String("meta", "", "side JSON path (default: -out with .meta.json instead of .csv)")
	overhead := fs.String("overhead", "", "measure sampler overhead instead: write a JSON comparing runs with the sampler off and on")
	reps := fs.Int("overhead-reps", 3, "runs per sampler state for -overhead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if d.Scenarios, err = lab.ParseScenarios(*scenarios); err != nil {
		return err
	}
	if d.FrameSmall, d.FrameLarge, err = lab.ParseFrames(*frames); err != nil {
		return err
	}
	if *overhead != "" {
		if *reps < 1 || d.Interval <= 0 {
			return fmt.Errorf("-overhead needs -overhead-reps >= 1 and -interval > 0")
		}
		// The children get every knob set here except the ones overhead owns.
		var knobs []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "overhead", "overhead-reps", "out", "meta", "interval":
			default:
				knobs = append(knobs, "-"+f.Name+"="+f.Value.String())
			}
		})
		o, err := measureOverhead(knobs, d.Interval, *reps)
		if err != nil {
			return err
		}
		return writeFile(*overhead, func(f *os.File) error { return lab.WriteJSON(f, o) })
	}
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	if *meta == "" {
		*meta = strings.TrimSuffix(*out, ".csv") + ".meta.json"
	}
	res, err := lab.Run(&d)
	if err != nil {
		return err
	}
	if err := writeFile(*out, func(f *os.File) error { return lab.WriteCSV(f, res) }); err != nil {
		return err
	}
	return writeFile(*meta, func(f *os.File) error { return lab.WriteJSON(f, lab.NewMeta(&d, res)) })
}

// measureOverhead runs this program reps times with the sampler off and reps
// times with it on, each in a fresh process: in one process, a run would
// inherit the previous run's cached goroutine stacks and starting stack size.
func measureOverhead(knobs []string, interval time.Duration, reps int) (*lab.Overhead, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "stack-growth-overhead-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	var off, on []*lab.Meta
	for r := 0; r < reps; r++ {
		order := []time.Duration{0, interval}
		if r%2 == 1 {
			order = []time.Duration{interval, 0}
		}
		for _, iv := range order {
			out := filepath.Join(dir, fmt.Sprintf("run-%d-%d.csv", r, iv))
			meta := strings.TrimSuffix(out, ".csv") + ".meta.json"
			args := append(append([]string(nil), knobs...), "-interval="+iv.String(), "-out="+out, "-meta="+meta)
			cmd := exec.Command(self, args...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("run %v: %w", args, err)
			}
			b, err := os.ReadFile(meta)
			if err != nil {
				return nil, err
			}
			m := new(lab.Meta)
			if err := json.Unmarshal(b, m); err != nil {
				return nil, fmt.Errorf("%s: %w", meta, err)
			}
			if iv == 0 {
				off = append(off, m)
			} else {
				on = append(on, m)
			}
		}
	}
	return lab.CompareOverhead(off, on)
}

// writeFile writes beside path and renames, so a failed run leaves no half file.
func writeFile(path string, write func(*os.File) error) error {
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}
