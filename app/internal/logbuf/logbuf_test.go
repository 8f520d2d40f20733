package logbuf

import (
	"bytes"
	"encoding/json"
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

// TestAFullBufferHoldsToTheByteThenDrops: lines that fill the buffer exactly
// are held; the next one is dropped and counted, not written by the caller;
// the flush writes what was held, then says how many lines were dropped.
func TestAFullBufferHoldsToTheByteThenDrops(t *testing.T) {
	var r recorder
	w := newWriter(&r, 10)
	fmt.Fprint(w, "1234\n")
	fmt.Fprint(w, "6789\n") // 10 bytes: full, not over
	if n, err := w.Write([]byte("x\n")); n != 2 || err != nil {
		t.Fatalf("a dropped line must not fail the caller: %d, %v", n, err)
	}
	fmt.Fprint(w, "longer than the whole buffer\n")
	if got := r.snapshot(); len(got) != 0 || w.Dropped() != 2 {
		t.Fatalf("Write wrote (%q) or did not count the drops (%d)", got, w.Dropped())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got := r.snapshot()
	if len(got) != 2 || got[0] != "1234\n6789\n" {
		t.Fatalf("want the held lines, then the report: %q", got)
	}
	var report struct {
		Level, Msg string
		Dropped    int
	}
	if err := json.Unmarshal([]byte(got[1]), &report); err != nil || report.Level != "WARN" || report.Msg != "log lines dropped" || report.Dropped != 2 || !strings.HasSuffix(got[1], "}\n") {
		t.Fatalf("the drop report: %q (%v)", got[1], err)
	}
	// Reported once: the next flush has nothing to say.
	fmt.Fprint(w, "z\n")
	_ = w.Flush()
	_ = w.Flush() // nothing buffered: nothing written
	if got := r.snapshot(); len(got) != 3 || got[2] != "z\n" || w.Dropped() != 2 {
		t.Fatalf("after the report: %q, dropped %d", got, w.Dropped())
	}
}

// TestAHalfFullBufferAsksForAFlush: the writer goroutine is woken at half,
// not left until the interval, so a burst rarely fills the buffer.
func TestAHalfFullBufferAsksForAFlush(t *testing.T) {
	w := newWriter(&recorder{}, 10)
	fmt.Fprint(w, "123\n") // 4 of 10
	if len(w.kick) != 0 {
		t.Fatal("a flush was asked for below half")
	}
	fmt.Fprint(w, "5") // 5 of 10: half
	if len(w.kick) != 1 {
		t.Fatal("no flush was asked for at half")
	}

	var r recorder
	live := New(&r, never, 10)
	defer live.Close()
	fmt.Fprint(live, "12345\n") // past half: written without a Close or an interval
	for deadline := time.Now().Add(5 * time.Second); len(r.snapshot()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("a half-full buffer was not flushed")
		}
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

// stalled is an output that takes no write until it is opened, as a pipe
// nobody reads.
type stalled struct {
	open chan struct{}
	recorder
}

func (s *stalled) Write(p []byte) (int, error) {
	<-s.open
	return s.recorder.Write(p)
}

// TestAStalledOutputNeverBlocksWrites: while the output takes nothing, every
// Write returns; the lines that no longer fit are dropped, and counted once
// the output takes writes again.
func TestAStalledOutputNeverBlocksWrites(t *testing.T) {
	out := &stalled{open: make(chan struct{})}
	w := New(out, time.Millisecond, 1024)
	const lines = 2000
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		for i := range lines {
			fmt.Fprintf(w, "line %04d\n", i)
		}
	}()
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("Write blocked on a stalled output")
	}
	dropped := w.Dropped()
	if dropped == 0 || dropped >= lines {
		t.Fatalf("dropped %d of %d lines: want some dropped, and a buffer's worth kept", dropped, lines)
	}
	close(out.open)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(out.snapshot(), "")
	kept, reported := strings.Count(all, "line "), 0
	for _, line := range strings.Split(all, "\n") {
		var report struct{ Dropped int }
		if strings.Contains(line, `"msg":"log lines dropped"`) && json.Unmarshal([]byte(line), &report) == nil {
			reported += report.Dropped // each report counts the drops since the one before
		}
	}
	if kept+int(dropped) != lines || reported != int(dropped) {
		t.Fatalf("kept %d + dropped %d != %d lines, or %d reported:\n%s", kept, dropped, lines, reported, all)
	}
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
	w := newWriter(&r, 64)
	if _, err := w.Write([]byte("fits\n")); err != nil {
		t.Fatalf("a buffered write failed early: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, broken) {
		t.Fatalf("the flush: got %v, want %v", err, broken)
	}
	if _, err := w.Write([]byte("x\n")); !errors.Is(err, broken) {
		t.Fatalf("a later write: got %v, want %v", err, broken)
	}
	if err := w.Close(); !errors.Is(err, broken) {
		t.Fatalf("Close: got %v, want %v", err, broken)
	}

	// A write straight through after Close keeps its error too.
	s := recorder{}
	after := newWriter(&s, 64)
	_ = after.Close()
	s.err = broken
	if _, err := after.Write([]byte("late\n")); !errors.Is(err, broken) {
		t.Fatalf("a write after Close: got %v, want %v", err, broken)
	}
	s.err = nil
	if _, err := after.Write([]byte("later\n")); !errors.Is(err, broken) {
		t.Fatalf("the next write after Close: got %v, want the first error", err)
	}
}

func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	var out bytes.Buffer
	var mu sync.Mutex
	w := New(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	}), time.Millisecond, 64<<10)
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
	if len(lines) != 8*200 || w.Dropped() != 0 {
		t.Fatalf("got %d lines (%d dropped), want %d", len(lines), w.Dropped(), 8*200)
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
