// Package conv turns a Go execution trace into tables: scheduling waits (every goroutine
// Runnable -> Running transition), tasks, regions and logs. It reads every trace format
// golang.org/x/exp/trace reads: Go 1.11..1.21 (v1, converted by x/exp) and 1.22 on (v2).
package conv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/exp/trace"
)

// Table headers. The column names are the contract with the Python side (sched stage).
var (
	WaitsHeader   = []string{"goroutine", "reason", "detail", "waker", "task_id", "workload", "task_source", "proc", "start_ns", "end_ns", "wait_ns"}
	TasksHeader   = []string{"task_id", "parent_id", "name", "start_goroutine", "end_goroutine", "start_ns", "end_ns"}
	RegionsHeader = []string{"region_id", "task_id", "workload", "name", "goroutine", "start_ns", "end_ns"}
	LogsHeader    = []string{"task_id", "workload", "goroutine", "category", "message", "t_ns"}
)

// Reasons a goroutine became runnable, from the state it left (the "reason" column).
const (
	ReasonCreated      = "created"      // NotExist -> Runnable: go statement
	ReasonUnblocked    = "unblocked"    // Waiting -> Runnable: detail is what it waited on
	ReasonPreempted    = "preempted"    // Running -> Runnable, stopped by the scheduler
	ReasonYielded      = "yielded"      // Running -> Runnable by its own choice (Gosched)
	ReasonSyscall      = "syscall"      // Syscall -> Runnable: returned and lost its P
	ReasonUndetermined = "undetermined" // first seen Runnable (trace or generation start): no known start
)

// Tables receives the CSV output, one writer per table.
type Tables struct {
	Waits, Tasks, Regions, Logs io.Writer
}

// Summary describes one converted trace.
type Summary struct {
	TraceVersion      string           `json:"trace_version"` // "1.22": the header's version
	TraceFormat       string           `json:"trace_format"`  // "v1" (Go <= 1.21, converted) or "v2"
	Events            int64            `json:"events"`        // events x/exp produced, syncs included
	Syncs             int64            `json:"syncs"`
	EventsByKind      map[string]int64 `json:"events_by_kind"`
	TraceStart        int64            `json:"trace_start"` // first event's time on the trace clock; *_ns columns count from it
	DurationNs        int64            `json:"duration_ns"` // last event minus first
	Goroutines        int64            `json:"goroutines"`  // distinct goroutines with a state change
	Waits             int64            `json:"waits"`       // Runnable -> Running transitions = waits rows
	WaitsUndetermined int64            `json:"waits_undetermined"`
	WaitsByReason     map[string]int64 `json:"waits_by_reason"`
	Tasks             int64            `json:"tasks"`
	Regions           int64            `json:"regions"`
	Logs              int64            `json:"logs"`
}

// ErrNotTrace is returned for input that does not start with a Go trace header.
var ErrNotTrace = errors.New("not a Go execution trace")

// Version reads the header's version ("1.22") from the start of a trace.
func Version(header []byte) (string, error) {
	const prefix = "go 1."
	if !bytes.HasPrefix(header, []byte(prefix)) {
		return "", fmt.Errorf("%w (starts with %q)", ErrNotTrace, header[:min(len(header), 16)])
	}
	rest := header[len(prefix):]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || !bytes.HasPrefix(rest[i:], []byte(" trace")) {
		return "", fmt.Errorf("%w (starts with %q)", ErrNotTrace, header[:min(len(header), 16)])
	}
	return "1." + string(rest[:i]), nil
}

type region struct {
	id    int64
	task  trace.TaskID
	name  string
	start trace.Time
}

type goroutine struct {
	since     trace.Time // when it became runnable, if known
	known     bool
	reason    string
	detail    string
	waker     trace.GoID
	blockedOn string       // reason of the last Running -> Waiting
	regions   []region     // active regions, innermost last
	inherited trace.TaskID // its creator's task at the go statement
}

type task struct {
	parent             trace.TaskID
	name               string
	startG, endG       trace.GoID
	start, end         trace.Time
	hasStart, hasEnd   bool
	hasStartG, hasEndG bool
}

type converter struct {
	base       trace.Time
	haveBase   bool
	last       trace.Time
	gs         map[trace.GoID]*goroutine
	tasks      map[trace.TaskID]*task
	nextRegion int64
	waits      *csvWriter
	regions    *csvWriter
	logs       *csvWriter
	sum        Summary
	kindCounts [32]int64
}

// Convert reads a whole trace from r, writes its tables to t, and summarises it. On error
// the tables hold partial output: callers write to temporary files and keep them only on
// success.
func Convert(r io.Reader, t Tables) (Summary, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	hdr, _ := br.Peek(16)
	ver, err := Version(hdr)
	if err != nil {
		return Summary{}, err
	}
	tr, err := trace.NewReader(br)
	if err != nil {
		return Summary{}, fmt.Errorf("trace header go %s: %w", ver, err)
	}
	c := &converter{
		gs:      make(map[trace.GoID]*goroutine),
		tasks:   make(map[trace.TaskID]*task),
		waits:   newCSVWriter(t.Waits, WaitsHeader...),
		regions: newCSVWriter(t.Regions, RegionsHeader...),
		logs:    newCSVWriter(t.Logs, LogsHeader...),
		sum: Summary{
			TraceVersion:  ver,
			TraceFormat:   "v2",
			WaitsByReason: map[string]int64{},
			EventsByKind:  map[string]int64{},
		},
	}
	if minor, _ := strconv.Atoi(strings.TrimPrefix(ver, "1.")); minor <= 21 {
		c.sum.TraceFormat = "v1"
	}
	for {
		ev, err := tr.ReadEvent()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Summary{}, fmt.Errorf("event %d: %w", c.sum.Events+1, err)
		}
		c.event(&ev)
	}
	if c.sum.Events == c.sum.Syncs {
		// Every real trace has state transitions; only the reader's own syncs means the
		// file stops at (or just after) the header.
		return Summary{}, fmt.Errorf("trace header go %s but no events: empty or cut before the first batch", ver)
	}
	c.finish()
	if err := c.writeTasks(t.Tasks); err != nil {
		return Summary{}, err
	}
	for _, w := range []*csvWriter{c.waits, c.regions, c.logs} {
		if err := w.flush(); err != nil {
			return Summary{}, err
		}
	}
	return c.sum, nil
}

func (c *converter) rel(t trace.Time) int64 { return int64(t - c.base) }

func (c *converter) g(id trace.GoID) *goroutine {
	g := c.gs[id]
	if g == nil {
		g = &goroutine{inherited: trace.NoTask, waker: trace.NoGoroutine}
		c.gs[id] = g
	}
	return g
}

func (c *converter) event(ev *trace.Event) {
	k := ev.Kind()
	c.sum.Events++
	if int(k) < len(c.kindCounts) {
		c.kindCounts[k]++
	}
	now := ev.Time()
	if !c.haveBase {
		c.base, c.haveBase = now, true
	}
	c.last = now
	switch k {
	case trace.EventSync:
		c.sum.Syncs++
	case trace.EventStateTransition:
		st := ev.StateTransition()
		if st.Resource.Kind == trace.ResourceGoroutine {
			c.transition(ev, &st)
		}
	case trace.EventTaskBegin:
		info := ev.Task()
		tk := c.task(info.ID)
		tk.parent, tk.name = info.Parent, info.Type
		tk.start, tk.hasStart = now, true
		tk.startG, tk.hasStartG = ev.Goroutine(), ev.Goroutine() != trace.NoGoroutine
	case trace.EventTaskEnd:
		info := ev.Task()
		tk := c.task(info.ID)
		if tk.name == "" {
			tk.name, tk.parent = info.Type, info.Parent
		}
		tk.end, tk.hasEnd = now, true
		tk.endG, tk.hasEndG = ev.Goroutine(), ev.Goroutine() != trace.NoGoroutine
	case trace.EventRegionBegin:
		info := ev.Region()
		g := c.g(ev.Goroutine())
		c.nextRegion++
		g.regions = append(g.regions, region{c.nextRegion, info.Task, info.Type, now})
	case trace.EventRegionEnd:
		c.regionEnd(ev, now)
	case trace.EventLog:
		l := ev.Log()
		w := c.logs
		c.taskCols(w, l.Task)
		c.goCol(w, ev.Goroutine())
		w.str(l.Category)
		w.str(l.Message)
		w.int(c.rel(now))
		w.end()
	}
}

// transition tracks one goroutine state change; a Runnable -> Running change is a wait.
func (c *converter) transition(ev *trace.Event, st *trace.StateTransition) {
	id := st.Resource.Goroutine()
	from, to := st.Goroutine()
	if from == to {
		return // a status event restating what the reader already knew
	}
	g := c.g(id)
	if from == trace.GoUndetermined || from == trace.GoNotExist {
		c.sum.Goroutines++
	}
	now := ev.Time()
	switch to {
	case trace.GoRunnable:
		g.since, g.known, g.detail, g.waker = now, true, "", trace.NoGoroutine
		if by := ev.Goroutine(); by != id {
			g.waker = by
		}
		switch from {
		case trace.GoNotExist:
			g.reason = ReasonCreated
			g.inherited = trace.NoTask
			if g.waker != trace.NoGoroutine {
				if creator := c.gs[g.waker]; creator != nil {
					g.inherited, _ = c.taskOf(creator)
				}
			}
		case trace.GoWaiting:
			g.reason, g.detail = ReasonUnblocked, g.blockedOn
		case trace.GoRunning:
			g.reason, g.detail = ReasonYielded, st.Reason
			if strings.Contains(st.Reason, "preempt") {
				g.reason = ReasonPreempted
			}
		case trace.GoSyscall:
			g.reason = ReasonSyscall
		default: // Undetermined: runnable since before this trace or generation said so
			g.reason, g.known = ReasonUndetermined, false
		}
	case trace.GoRunning:
		if from == trace.GoRunnable {
			c.wait(ev, id, g, now)
		}
	case trace.GoWaiting:
		g.blockedOn = st.Reason
	case trace.GoNotExist:
		c.endRegions(id, g)
		delete(c.gs, id)
	}
}

func (c *converter) wait(ev *trace.Event, id trace.GoID, g *goroutine, now trace.Time) {
	reason := g.reason
	if reason == "" {
		// Runnable without a transition into it: only an Undetermined status does that.
		reason, g.known = ReasonUndetermined, false
	}
	c.sum.Waits++
	c.sum.WaitsByReason[reason]++
	if !g.known {
		c.sum.WaitsUndetermined++
	}
	w := c.waits
	w.int(int64(id))
	w.str(reason)
	w.str(g.detail)
	w.optInt(int64(g.waker), g.waker != trace.NoGoroutine)
	tid, source := c.taskOf(g)
	c.taskCols(w, tid)
	w.str(source)
	w.optInt(int64(ev.Proc()), ev.Proc() != trace.NoProc)
	w.optInt(c.rel(g.since), g.known)
	w.int(c.rel(now))
	w.optInt(int64(now-g.since), g.known)
	w.end()
	g.reason, g.detail, g.known, g.waker = "", "", false, trace.NoGoroutine
}

// taskOf attributes a goroutine to a task: its innermost active region's task, else the
// task its creator was in at the go statement while that task is still running (the lab
// passes the task's context to the goroutines it starts).
func (c *converter) taskOf(g *goroutine) (trace.TaskID, string) {
	for i := len(g.regions) - 1; i >= 0; i-- {
		if t := g.regions[i].task; t != trace.BackgroundTask && t != trace.NoTask {
			return t, "region"
		}
	}
	if t := g.inherited; t != trace.NoTask {
		if tk := c.tasks[t]; tk == nil || !tk.hasEnd {
			return t, "created"
		}
	}
	return trace.NoTask, ""
}

// taskCols writes the task_id and workload (task name) columns; both empty without a task.
func (c *converter) taskCols(w *csvWriter, id trace.TaskID) {
	if id == trace.NoTask || id == trace.BackgroundTask {
		w.optInt(0, false)
		w.str("")
		return
	}
	w.int(int64(id))
	name := ""
	if tk := c.tasks[id]; tk != nil {
		name = tk.name
	}
	w.str(name)
}

func (c *converter) goCol(w *csvWriter, id trace.GoID) {
	w.optInt(int64(id), id != trace.NoGoroutine)
}

func (c *converter) task(id trace.TaskID) *task {
	tk := c.tasks[id]
	if tk == nil {
		tk = &task{parent: trace.NoTask}
		c.tasks[id] = tk
	}
	return tk
}

func (c *converter) regionEnd(ev *trace.Event, now trace.Time) {
	info := ev.Region()
	id := ev.Goroutine()
	g := c.g(id)
	for i := len(g.regions) - 1; i >= 0; i-- {
		if r := g.regions[i]; r.name == info.Type && r.task == info.Task {
			c.regionRow(r, id, r.start, true, now, true)
			g.regions = slices.Delete(g.regions, i, i+1)
			return
		}
	}
	// Begun before the trace started: the start is unknown.
	c.nextRegion++
	c.regionRow(region{id: c.nextRegion, task: info.Task, name: info.Type}, id, 0, false, now, true)
}

func (c *converter) regionRow(r region, g trace.GoID, start trace.Time, hasStart bool, end trace.Time, hasEnd bool) {
	w := c.regions
	w.int(r.id)
	c.taskCols(w, r.task)
	w.str(r.name)
	c.goCol(w, g)
	w.optInt(c.rel(start), hasStart)
	w.optInt(c.rel(end), hasEnd)
	w.end()
}

// endRegions writes the regions a goroutine still had open when it exited or the trace
// ended, with no end.
func (c *converter) endRegions(id trace.GoID, g *goroutine) {
	for _, r := range g.regions {
		c.regionRow(r, id, r.start, true, 0, false)
	}
	g.regions = nil
}

func (c *converter) finish() {
	ids := make([]trace.GoID, 0, len(c.gs))
	for id, g := range c.gs {
		if len(g.regions) > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids) // map order must not reach the output
	for _, id := range ids {
		c.endRegions(id, c.gs[id])
	}
	c.sum.TraceStart = int64(c.base)
	c.sum.DurationNs = c.rel(c.last)
	c.sum.Regions = c.regions.rows
	c.sum.Logs = c.logs.rows
	c.sum.Tasks = int64(len(c.tasks))
	for k, n := range c.kindCounts {
		if n > 0 {
			c.sum.EventsByKind[trace.EventKind(k).String()] = n
		}
	}
}

func (c *converter) writeTasks(out io.Writer) error {
	ids := make([]trace.TaskID, 0, len(c.tasks))
	for id := range c.tasks {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	w := newCSVWriter(out, TasksHeader...)
	for _, id := range ids {
		tk := c.tasks[id]
		w.int(int64(id))
		w.optInt(int64(tk.parent), tk.parent != trace.NoTask && tk.parent != trace.BackgroundTask)
		w.str(tk.name)
		w.optInt(int64(tk.startG), tk.hasStartG)
		w.optInt(int64(tk.endG), tk.hasEndG)
		w.optInt(c.rel(tk.start), tk.hasStart)
		w.optInt(c.rel(tk.end), tk.hasEnd)
		w.end()
	}
	return w.flush()
}
