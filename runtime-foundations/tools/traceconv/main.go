// Command traceconv turns a Go execution trace (trace.out) into CSV tables for the sched
// stage: waits.csv (every goroutine Runnable -> Running transition), tasks.csv,
// regions.csv, logs.csv, and summary.json.
//
//	traceconv -o DIR trace.out
//
// It reads traces of Go 1.11 and later through golang.org/x/exp/trace. A trace it cannot
// read (unsupported, truncated, not a trace) is an error: exit status 1, a message naming
// the file and the reason, and no output at all, since tables are written to a temporary
// directory and moved into DIR only after the whole trace has been read.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-release-lab/runtime-foundations/tools/traceconv/internal/conv"
)

// Output file names inside -o DIR.
const (
	WaitsFile   = "waits.csv"
	TasksFile   = "tasks.csv"
	RegionsFile = "regions.csv"
	LogsFile    = "logs.csv"
	SummaryFile = "summary.json"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "traceconv:", firstLine(err.Error()))
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("traceconv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output directory for "+WaitsFile+", "+TasksFile+", "+RegionsFile+", "+LogsFile+", "+SummaryFile+" (required)")
	quiet := fs.Bool("q", false, "do not print the summary to stdout")
	fs.Usage = func() {
		_, _ = fmt.Fprintln(fs.Output(), "usage: traceconv -o DIR trace.out")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("need -o DIR and exactly one trace file")
	}
	path := fs.Arg(0)
	sum, err := convertFile(path, *out)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !*quiet {
		_, _ = fmt.Fprintf(stdout, "%s: go %s trace, %d events, %d waits (%d undetermined), %d tasks, %d regions, %d logs -> %s\n",
			path, sum.TraceVersion, sum.Events, sum.Waits, sum.WaitsUndetermined, sum.Tasks, sum.Regions, sum.Logs, *out)
	}
	return nil
}

// convertFile converts the trace at path into dir. Everything is written into a
// temporary directory beside dir first; only a complete conversion is moved into place.
func convertFile(path, dir string) (conv.Summary, error) {
	in, err := os.Open(path)
	if err != nil {
		return conv.Summary{}, err
	}
	defer func() { _ = in.Close() }() // read-only

	dir = filepath.Clean(dir)
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".tmp*")
	if err != nil {
		return conv.Summary{}, err
	}
	// Empty after a successful move; the partial tables otherwise. A failed cleanup of a
	// dot-directory must not hide the conversion's own result.
	defer func() { _ = os.RemoveAll(tmp) }()

	names := make([]string, 0, 5)
	names = append(names, WaitsFile, TasksFile, RegionsFile, LogsFile)
	files := make([]*os.File, len(names))
	for i, n := range names {
		if files[i], err = os.Create(filepath.Join(tmp, n)); err != nil {
			_ = closeAll(files) // reporting the create error
			return conv.Summary{}, err
		}
	}
	sum, err := conv.Convert(in, conv.Tables{Waits: files[0], Tasks: files[1], Regions: files[2], Logs: files[3]})
	if cerr := closeAll(files); err == nil {
		err = cerr
	}
	if err != nil {
		return conv.Summary{}, err
	}
	b, err := json.MarshalIndent(sum, "", " ")
	if err != nil {
		return conv.Summary{}, err
	}
	if err := os.WriteFile(filepath.Join(tmp, SummaryFile), append(b, '\n'), 0o644); err != nil {
		return conv.Summary{}, err
	}
	return sum, publish(tmp, dir, append(names, SummaryFile))
}

// publish moves the finished tables into dir: the whole directory in one rename when dir
// does not exist yet, file by file (each rename atomic) when it does.
func publish(tmp, dir string, names []string) error {
	if err := os.Chmod(tmp, 0o755); err != nil { // MkdirTemp makes it 0700
		return err
	}
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return os.Rename(tmp, dir)
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(tmp, n), filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return nil
}

// firstLine keeps an error to one line: x/exp appends a dump of its reader state (often
// thousands of lines) to "broken trace" errors, which buries the reason.
func firstLine(msg string) string {
	if first, rest, ok := strings.Cut(msg, "\n"); ok {
		return fmt.Sprintf("%s [%d more lines of reader state omitted]", first, strings.Count(rest, "\n")+1)
	}
	return msg
}

func closeAll(files []*os.File) error {
	var first error
	for _, f := range files {
		if f == nil {
			continue
		}
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
