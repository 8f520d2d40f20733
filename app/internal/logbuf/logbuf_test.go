package logbuf

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder keeps each Write it receives, to check how lines were batched.
type recorder struct {
	mu     sync.Mutex
	writes []string
	err    error
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.writes = append(r.writes, string(p))
	return len(p), nil
}

func (r *recorder) snapshot() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

const never = time.Hour // no periodic flush during the test

func TestBatchesLinesIntoOneWrite(t *testing.T) {
	var r recorder
	w := New(&r, never, 4096)
	for i := range 10 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if got := r.snapshot(); len(got) != 0 {
		t.Fatalf("wrote before a flush: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := r.snapshot()
	if len(got) != 1 || strings.Count(got[0], "\n") != 10 || !strings.HasPrefix(got[0], "line 0\n") {
		t.Fatalf("want the 10 lines in one write, got %q", got)
	}
}

func TestNeverSplitsALine(t *testing.T) {
	var r recorder
	w := New(&r, never, 16)
	for _, line := range []string{"aaaaaaaaa\n", "bbbbbbbbb\n", "ccccccccccccccccccccccc\n", "d\n"} {
		if _, err := w.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The second line does not fit beside the first; the third is larger than
	// the whole buffer and goes straight through.
	want := []string{"aaaaaaaaa\n", "bbbbbbbbb\n", "ccccccccccccccccccccccc\n", "d\n"}
	if got := r.snapshot(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("writes: got %q, want %q", got, want)
	}
}

func TestFlushesEveryInterval(t *testing.T) {
	var r recorder
	w := New(&r, 10*time.Millisecond, 4096)
	defer w.Close()
	fmt.Fprintln(w, "hello")
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if got := r.snapshot(); len(got) == 1 && got[0] == "hello\n" {
			return
		}
	}
	t.Fatalf("the line was not written without a Close: %q", r.snapshot())
}

func TestWritesAfterCloseGoStraightThrough(t *testing.T) {
	var r recorder
	w := New(&r, never, 4096)
	fmt.Fprintln(w, "before")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(w, "after")
	if got := r.snapshot(); fmt.Sprint(got) != fmt.Sprint([]string{"before\n", "after\n"}) {
		t.Fatalf("writes: %q", got)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
}

func TestKeepsTheFirstError(t *testing.T) {
	broken := errors.New("broken pipe")
	r := recorder{err: broken}
	w := New(&r, never, 8)
	if _, err := w.Write([]byte("fits\n")); err != nil {
		t.Fatalf("a buffered write failed early: %v", err)
	}
	if _, err := w.Write([]byte("no room\n")); !errors.Is(err, broken) {
		t.Fatalf("the flush before a write that does not fit: got %v, want %v", err, broken)
	}
	if _, err := w.Write([]byte("x\n")); !errors.Is(err, broken) {
		t.Fatalf("a later write: got %v, want %v", err, broken)
	}
	if err := w.Close(); !errors.Is(err, broken) {
		t.Fatalf("Close: got %v, want %v", err, broken)
	}
}

func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), time.Millisecond, 256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				fmt.Fprintf(w, "writer %d line %03d\n", g, i)
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("got %d lines, want %d", len(lines), 8*200)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var g, i int
		if _, err := fmt.Sscanf(l, "writer %d line %d", &g, &i); err != nil || seen[l] {
			t.Fatalf("a torn or repeated line: %q", l)
		}
		seen[l] = true
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestAFullBufferWaitsForTheFlush: lines that fill the buffer to the byte are
// still held, as is one line exactly the buffer's size; only more than fits
// is written at once.
func TestAFullBufferWaitsForTheFlush(t *testing.T) {
	var r recorder
	w := New(&r, never, 10)
	fmt.Fprint(w, "1234\n")
	fmt.Fprint(w, "6789\n") // 10 bytes: full, not over
	if got := r.snapshot(); len(got) != 0 {
		t.Fatalf("a buffer filled exactly was written before a flush: %q", got)
	}
	fmt.Fprint(w, "x\n") // does not fit: the full buffer goes out first
	if got := r.snapshot(); len(got) != 1 || got[0] != "1234\n6789\n" {
		t.Fatalf("want the full buffer in one write, got %q", got)
	}
	_ = w.Flush()

	var s recorder
	w = New(&s, never, 10)
	fmt.Fprint(w, "123456789\n") // exactly the buffer's size: held
	if got := s.snapshot(); len(got) != 0 {
		t.Fatalf("a line the size of the buffer was written straight through: %q", got)
	}
	fmt.Fprint(w, "0123456789\n") // larger than the buffer: the held line, then this one
	if got := s.snapshot(); len(got) != 2 || got[1] != "0123456789\n" {
		t.Fatalf("want the held line then the long one, got %q", got)
	}
	_ = w.Close()
}

// TestALongLineThatFailsKeepsTheError: the error of a line too long to buffer,
// written straight through, is kept for later writes like any other.
func TestALongLineThatFailsKeepsTheError(t *testing.T) {
	broken := errors.New("broken pipe")
	r := recorder{err: broken}
	w := New(&r, never, 4)
	if _, err := w.Write([]byte("longer than four\n")); !errors.Is(err, broken) {
		t.Fatalf("the straight-through write: got %v, want %v", err, broken)
	}
	if _, err := w.Write([]byte("x\n")); !errors.Is(err, broken) {
		t.Fatalf("a later write: got %v, want %v", err, broken)
	}
}
