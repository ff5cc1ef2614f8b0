package cases

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// prediction is one row of predictions.json; see its "fields" object.
type prediction struct {
	Case          string                     `json:"case"`
	Variant       string                     `json:"variant"`
	Function      string                     `json:"function"`
	File          string                     `json:"file"`
	Line          int                        `json:"line"`
	Subject       string                     `json:"subject"`
	Decision      string                     `json:"decision"`
	Call          string                     `json:"call"`
	Benchmark     string                     `json:"benchmark"`
	AllocsPerCall *int                       `json:"allocs_per_call"`
	Why           string                     `json:"why"`
	SinceGo       map[string]json.RawMessage `json:"since_go"`
}

type predictionsFile struct {
	SchemaVersion int          `json:"schema_version"`
	CheckedWith   []string     `json:"checked_with"`
	Predictions   []prediction `json:"predictions"`
}

func loadPredictions(t *testing.T) predictionsFile {
	t.Helper()
	raw, err := os.ReadFile("predictions.json")
	if err != nil {
		t.Fatal(err)
	}
	var pf predictionsFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&struct {
		*predictionsFile
		Package string            `json:"package"`
		Fields  map[string]string `json:"fields"`
	}{predictionsFile: &pf}); err != nil {
		t.Fatal(err)
	}
	if pf.SchemaVersion != 1 || len(pf.Predictions) == 0 {
		t.Fatalf("unexpected predictions file: schema %d, %d rows", pf.SchemaVersion, len(pf.Predictions))
	}
	return pf
}

var minorRE = regexp.MustCompile(`go1\.(\d+)`)

// goMinor returns the minor release of a version such as "go1.25.5" or
// "1.25", or -1 when there is none.
func goMinor(v string) int {
	if !strings.HasPrefix(v, "go") {
		v = "go" + v
	}
	m := minorRE.FindStringSubmatch(v)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(m[1])
	if err != nil {
		return -1
	}
	return n
}

// resolve applies the since_go overrides that hold for release minor.
func resolve(t *testing.T, p *prediction, minor int) prediction {
	t.Helper()
	best := -1
	var patch json.RawMessage
	for k, v := range p.SinceGo {
		if m := goMinor(k); m >= 0 && m <= minor && m > best {
			best, patch = m, v
		}
	}
	out := *p
	out.SinceGo = nil
	if patch != nil {
		dec := json.NewDecoder(bytes.NewReader(patch))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("%s/%s since_go: %v", p.Case, p.Variant, err)
		}
	}
	return out
}

// allocsVary reports whether some release overrides allocs_per_call.
func allocsVary(p *prediction) bool {
	for _, v := range p.SinceGo {
		if bytes.Contains(v, []byte(`"allocs_per_call"`)) {
			return true
		}
	}
	return false
}

var decisions = map[string]bool{
	"moved_to_heap": true, "escapes": true, "does_not_escape": true,
	"leaking_param": true, "leaking_param_to_result": true, "none": true,
}

// TestPredictionsPointAtRealCode keeps predictions.json in step with the
// source: every function exists in its file, every line is inside it, and
// every call has a runner in calls.
func TestPredictionsPointAtRealCode(t *testing.T) {
	pf := loadPredictions(t)
	fset := token.NewFileSet()
	used := map[string]bool{}
	for _, p := range pf.Predictions {
		id := p.Case + "/" + p.Variant + "/" + p.Subject
		if p.Variant != "before" && p.Variant != "after" {
			t.Errorf("%s: variant %q", id, p.Variant)
		}
		if !decisions[p.Decision] {
			t.Errorf("%s: decision %q", id, p.Decision)
		}
		if p.AllocsPerCall == nil || p.Why == "" || p.Subject == "" {
			t.Errorf("%s: allocs_per_call, why and subject are required", id)
		}
		if _, ok := calls[p.Call]; !ok {
			t.Errorf("%s: no runner for call %q in calls_test.go", id, p.Call)
		}
		used[p.Call] = true
		f, err := parser.ParseFile(fset, p.File, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || fd.Name.Name != p.Function {
				continue
			}
			found = true
			if from, to := fset.Position(fd.Pos()).Line, fset.Position(fd.End()).Line; p.Line < from || p.Line > to {
				t.Errorf("%s: line %d is outside %s (%s:%d-%d)", id, p.Line, p.Function, p.File, from, to)
			}
		}
		if !found {
			t.Errorf("%s: no function %s in %s", id, p.Function, p.File)
		}
	}
	for c := range calls {
		if !used[c] {
			t.Errorf("calls[%q] is not used by any prediction", c)
		}
	}
}

// TestAllocsPerCall proves the allocation predictions that hold on every
// release: each "after" allocates nothing, each "before" exactly what is
// predicted. Rows whose count changes between releases (since_go sets
// allocs_per_call) are data for the pipeline, not a failure, so they are
// only logged.
func TestAllocsPerCall(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation counts")
	}
	pf := loadPredictions(t)
	minor := goMinor(runtime.Version())
	for _, p := range pf.Predictions {
		p := p
		t.Run(p.Case+"/"+p.Variant+"/"+p.Call, func(t *testing.T) {
			r := resolve(t, &p, minor)
			want := *r.AllocsPerCall
			if p.Variant == "after" && want != 0 {
				t.Errorf("an after variant must predict 0 allocations, predicts %d", want)
			}
			got := testing.AllocsPerRun(100, calls[p.Call])
			if allocsVary(&p) {
				t.Logf("%s: %v allocs/call on %s (predicted %d; varies by release, not asserted)", p.Call, got, runtime.Version(), want)
				return
			}
			if got != float64(want) {
				t.Errorf("%s: %v allocs/call, predicted %d (%s)", p.Call, got, want, p.Why)
			}
		})
	}
}

var mLine = regexp.MustCompile(`^(?:.*/)?([^/:]+\.go):(\d+):\d+: (.*)$`)

// matches reports whether one -m message states decision for subject.
func matches(msg, subject, decision string) bool {
	switch decision {
	case "moved_to_heap":
		return msg == "moved to heap: "+subject
	case "escapes":
		return msg == subject+" escapes to heap"
	case "does_not_escape":
		return msg == subject+" does not escape"
	case "leaking_param":
		return msg == "leaking param: "+subject
	case "leaking_param_to_result":
		return strings.HasPrefix(msg, "leaking param: "+subject+" to result ")
	}
	return false
}

// TestCompilerDecisions runs `go build -gcflags=-m` on this package and
// checks every escape decision against predictions.json, for the release
// running the test. It needs the matching go command on PATH and is skipped
// with -short, for releases not in checked_with (a newer compiler may decide
// differently; that is a finding for the data), and when no go is found.
func TestCompilerDecisions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	pf := loadPredictions(t)
	minor := goMinor(runtime.Version())
	checked := false
	for _, v := range pf.CheckedWith {
		if goMinor(v) == minor {
			checked = true
		}
	}
	if !checked || strings.HasPrefix(runtime.Version(), "devel") {
		t.Skipf("%s is not among checked_with %v", runtime.Version(), pf.CheckedWith)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	env := append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=")
	ver, err := exec.Command(goCmd, "env", "GOVERSION").Output()
	if err != nil || strings.TrimSpace(string(ver)) != runtime.Version() {
		t.Skipf("go on PATH is %q, test binary is %s", strings.TrimSpace(string(ver)), runtime.Version())
	}
	cmd := exec.Command(goCmd, "build", "-gcflags=-m", ".")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	type key struct {
		file string
		line int
	}
	msgs := map[key][]string{}
	for _, l := range strings.Split(string(out), "\n") {
		m := mLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		msgs[key{m[1], n}] = append(msgs[key{m[1], n}], m[3])
	}
	for _, p := range pf.Predictions {
		r := resolve(t, &p, minor)
		at := msgs[key{r.File, r.Line}]
		if r.Decision == "none" {
			for d := range decisions {
				for _, msg := range at {
					if matches(msg, r.Subject, d) {
						t.Errorf("%s/%s: predicted no escape line for %s at %s:%d, got %q", r.Case, r.Variant, r.Subject, r.File, r.Line, msg)
					}
				}
			}
			continue
		}
		ok := false
		for _, msg := range at {
			ok = ok || matches(msg, r.Subject, r.Decision)
		}
		if !ok {
			t.Errorf("%s/%s: predicted %s %s at %s:%d; -m printed %q", r.Case, r.Variant, r.Subject, r.Decision, r.File, r.Line, at)
		}
	}
}
