// Package logbuf batches log lines into few writes, and never makes a
// request wait for its log line.
//
// A JSON line per request written straight to stdout costs a system call per
// request and wakes the container runtime's log copier for each line; under
// load that halves what one CPU serves. A Writer keeps lines in memory and a
// goroutine of its own writes them out together: every flush interval, when
// the buffer is half full, and on Close. Lines are never split across writes.
//
// Writing is never done by the caller of Write: when stdout stalls (a pipe
// nobody reads, a log driver that blocks), Write keeps filling the buffer and,
// once it is full, drops the line and counts it, so that serving goes on. When
// the output takes writes again, a line reports how many were dropped.
//
// The price is that a process killed outright (SIGKILL, a crash outside a
// handler) loses at most one interval of lines.
package logbuf

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Writer is an io.Writer safe for concurrent use. Each Write is expected to
// carry whole lines, as log/slog's handlers do.
type Writer struct {
	mu      sync.Mutex
	buf     []byte // lines waiting to be written; they fit in cap(buf)
	spare   []byte // the other buffer: buf's next, once it is written out
	pending uint64 // lines dropped since the last report
	err     error  // the first error from out; later writes return it
	closed  bool   // after Close, writes go straight through

	out     io.Writer
	outMu   sync.Mutex // one write to out at a time, never while mu is held
	dropped atomic.Uint64
	kick    chan struct{} // a flush is wanted now (the buffer is half full)
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	running bool // a flushing goroutine was started
}

// New returns a Writer that holds up to size bytes and flushes to out every
// interval (interval > 0). Close it to flush what is left.
func New(out io.Writer, interval time.Duration, size int) *Writer {
	w := newWriter(out, size)
	w.running = true
	go w.flushEvery(interval)
	return w
}

func newWriter(out io.Writer, size int) *Writer {
	return &Writer{
		out:   out,
		buf:   make([]byte, 0, size),
		spare: make([]byte, 0, size),
		kick:  make(chan struct{}, 1),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

func (w *Writer) flushEvery(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-w.kick:
		case <-w.stop:
			return
		}
		_ = w.Flush() // the error is kept and returned to the next Write
	}
}

// Write buffers p. A p that does not fit beside what is buffered (the output
// is behind) is dropped and counted; p after Close is written straight through.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return 0, err
	}
	if w.closed {
		w.mu.Unlock()
		return w.writeOut(p)
	}
	if len(w.buf)+len(p) > cap(w.buf) {
		w.pending++
		w.mu.Unlock()
		w.dropped.Add(1)
		w.wantFlush()
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	halfFull := 2*len(w.buf) >= cap(w.buf)
	w.mu.Unlock()
	if halfFull {
		w.wantFlush()
	}
	return len(p), nil
}

func (w *Writer) wantFlush() {
	select {
	case w.kick <- struct{}{}:
	default: // one is asked for already
	}
}

// Dropped is how many lines were dropped since the Writer was made.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Flush writes out what is buffered, then a line counting the lines dropped
// since the last one, if any were. Writes go on into the other buffer
// meanwhile.
func (w *Writer) Flush() error {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	w.mu.Lock()
	data, pending, err := w.buf, w.pending, w.err
	w.buf, w.spare, w.pending = w.spare[:0], nil, 0
	w.mu.Unlock()
	if err == nil && len(data) > 0 {
		_, err = w.out.Write(data)
	}
	if err == nil && pending > 0 {
		_, err = io.WriteString(w.out, dropReport(time.Now(), pending))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.spare = data[:0]
	if w.err == nil {
		w.err = err
	}
	return w.err
}

// dropReport is a line in log/slog's JSON form saying how many lines were lost.
func dropReport(now time.Time, n uint64) string {
	return fmt.Sprintf(`{"time":%q,"level":"WARN","msg":"log lines dropped","dropped":%d,"reason":"the log output did not keep up; the lines were dropped rather than delay requests"}`+"\n",
		now.Format(time.RFC3339Nano), n)
}

func (w *Writer) writeOut(p []byte) (int, error) {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	n, err := w.out.Write(p)
	if err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = err
		}
		w.mu.Unlock()
	}
	return n, err
}

// Close stops the periodic flush and writes out what is buffered; later
// writes go straight through, so nothing logged during an exit is lost.
func (w *Writer) Close() error {
	w.once.Do(func() {
		close(w.stop)
		if w.running {
			<-w.done
		}
	})
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	return w.Flush()
}
