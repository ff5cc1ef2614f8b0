package conv

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// csvWriter writes RFC 4180 rows without encoding/csv's per-row []string: the waits
// table of a large trace has millions of rows, and this path is the converter's hot one.
// An empty field is a missing value (Polars reads it as null).
type csvWriter struct {
	w      *bufio.Writer
	buf    []byte
	fields int
	rows   int64
}

func newCSVWriter(w io.Writer, header ...string) *csvWriter {
	c := &csvWriter{w: bufio.NewWriterSize(w, 1<<16)}
	for _, h := range header {
		c.str(h)
	}
	c.end()
	c.rows = 0 // the header is not a row
	return c
}

func (c *csvWriter) sep() {
	if c.fields > 0 {
		c.buf = append(c.buf, ',')
	}
	c.fields++
}

func (c *csvWriter) int(v int64) {
	c.sep()
	c.buf = strconv.AppendInt(c.buf, v, 10)
}

// optInt writes v, or an empty (null) field when ok is false.
func (c *csvWriter) optInt(v int64, ok bool) {
	c.sep()
	if ok {
		c.buf = strconv.AppendInt(c.buf, v, 10)
	}
}

func (c *csvWriter) str(s string) {
	c.sep()
	if !strings.ContainsAny(s, ",\"\r\n") {
		c.buf = append(c.buf, s...)
		return
	}
	c.buf = append(c.buf, '"')
	c.buf = append(c.buf, strings.ReplaceAll(s, `"`, `""`)...)
	c.buf = append(c.buf, '"')
}

// end finishes the row. Write errors are sticky in bufio and surface in flush.
func (c *csvWriter) end() {
	c.buf = append(c.buf, '\n')
	_, _ = c.w.Write(c.buf)
	c.buf = c.buf[:0]
	c.fields = 0
	c.rows++
}

func (c *csvWriter) flush() error {
	return c.w.Flush()
}
