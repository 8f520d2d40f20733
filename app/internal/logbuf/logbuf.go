// Package logbuf batches log lines into few writes.
//
// A JSON line per request written straight to stdout costs a system call per
// request and wakes the container runtime's log copier for each line; under
// load that halves what one CPU serves. A Writer keeps lines in memory and
// writes them out together: when the buffer would overflow, every flush
// interval, and on Close. Lines are never split across writes.
//
// The price is that a process killed outright (SIGKILL, a crash outside a
// handler) loses at most one interval of lines.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// Writer is an io.Writer safe for concurrent use. Each Write is expected to
// carry whole lines, as log/slog's handlers do.
type Writer struct {
	mu     sync.Mutex
	out    io.Writer
	buf    []byte
	err    error // the first error from out; later writes return it
	closed bool  // after Close, writes go straight through
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

// New returns a Writer that holds up to size bytes and flushes to out every
// interval (interval > 0). Close it to flush what is left.
func New(out io.Writer, interval time.Duration, size int) *Writer {
	w := &Writer{out: out, buf: make([]byte, 0, size), stop: make(chan struct{}), done: make(chan struct{})}
	go w.flushEvery(interval)
	return w
}

func (w *Writer) flushEvery(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = w.Flush() // the error is kept and returned to the next Write
		case <-w.stop:
			return
		}
	}
}

// Write buffers p, first writing out what is buffered if p would not fit.
// A p larger than the whole buffer, or any p after Close, is written straight
// through.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if len(w.buf)+len(p) > cap(w.buf) || w.closed {
		if err := w.flushLocked(); err != nil {
			return 0, err
		}
	}
	if len(p) > cap(w.buf) || w.closed {
		n, err := w.out.Write(p)
		if err != nil {
			w.err = err
		}
		return n, err
	}
	w.buf = append(w.buf, p...)
	return len(p), nil
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.flushLocked()
}

func (w *Writer) flushLocked() error {
	if w.err != nil || len(w.buf) == 0 {
		return w.err
	}
	_, err := w.out.Write(w.buf)
	w.buf = w.buf[:0]
	if err != nil {
		w.err = err
	}
	return err
}

// Close stops the periodic flush and writes out what is buffered; later
// writes go straight through, so nothing logged during an exit is lost.
func (w *Writer) Close() error {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
	})
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	return w.flushLocked()
}
