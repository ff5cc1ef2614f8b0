package forensics

import (
	"bufio"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"
)

// Request is one served request as its client saw it.
type Request struct {
	ID      int64
	Start   time.Time
	Latency time.Duration
}

// RequestRow is a Request made relative to the run's origin, ready to write.
type RequestRow struct {
	Workload  string
	ID        int64
	StartNs   int64
	LatencyNs int64
}

// RequestLog collects request latencies from many goroutines. Clients buffer their own
// requests and add them once, so the lock is not part of the measured latency.
type RequestLog struct {
	origin time.Time
	mu     sync.Mutex
	rows   []RequestRow
}

// NewRequestLog returns a log whose start times count from origin.
func NewRequestLog(origin time.Time) *RequestLog {
	return &RequestLog{origin: origin}
}

// Add records the requests of one client of workload.
func (l *RequestLog) Add(workload string, reqs []Request) {
	if l == nil || len(reqs) == 0 {
		return
	}
	rows := make([]RequestRow, 0, len(reqs))
	for _, r := range reqs {
		rows = append(rows, RequestRow{workload, r.ID, r.Start.Sub(l.origin).Nanoseconds(), r.Latency.Nanoseconds()})
	}
	l.mu.Lock()
	l.rows = append(l.rows, rows...)
	l.mu.Unlock()
}

// Rows returns the recorded requests ordered by workload and request id.
func (l *RequestLog) Rows() []RequestRow {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := append([]RequestRow(nil), l.rows...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Workload != out[j].Workload {
			return out[i].Workload < out[j].Workload
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// RequestsHeader is the CSV header of WriteRequestsCSV.
const RequestsHeader = "workload,request_id,start_ns,latency_ns"

// WriteRequestsCSV writes rows as CSV with a header. Workload names are plain
// identifiers, so no quoting is needed.
func WriteRequestsCSV(w io.Writer, rows []RequestRow) error {
	// bufio errors are sticky: Flush reports the first failed write.
	bw := bufio.NewWriter(w)
	_, _ = bw.WriteString(RequestsHeader + "\n")
	var buf []byte
	for _, r := range rows {
		buf = append(buf[:0], r.Workload...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, r.ID, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, r.StartNs, 10)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, r.LatencyNs, 10)
		buf = append(buf, '\n')
		_, _ = bw.Write(buf)
	}
	return bw.Flush()
}
