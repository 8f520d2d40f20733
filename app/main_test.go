package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe to read while run writes logs to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// startApp runs the service as main would and returns its base URL, a
// function that delivers SIGTERM as the OS would, a channel with run's result
// and the log output.
func startApp(t *testing.T, vars map[string]string) (string, func(), <-chan error, *syncBuffer) {
	t.Helper()
	port := freePort(t)
	vars["PORT"] = fmt.Sprint(port)
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- run(ctx, signals, []string{"app"}, env(vars), stdout, io.Discard)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		// Two signals end a drain still under way (the second one cuts it short).
		for range 2 {
			select {
			case signals <- syscall.SIGTERM:
			default:
			}
		}
		select {
		case <-finished:
		case <-time.After(15 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitForHealthy(t, base, done)
	sigterm := func() { signals <- syscall.SIGTERM }
	return base, sigterm, done, stdout
}

// returned is what run returned, which it must within 5s of the event named.
func returned(t *testing.T, done <-chan error, after string) error {
	t.Helper()
	// Shutdown waits up to 5 s for a connection that was opened but never sent a request (net/http
	// takes StateNew for idle only after 5 s): the spare an HTTP client dials when, at that instant,
	// its idle connection is not back in the pool yet.
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("run did not return within 10s of %s", after)
		return nil
	}
}

// stillRunning fails the test if run has returned.
func stillRunning(t *testing.T, done <-chan error, when string) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("run returned %s: %v", when, err)
	default:
	}
}

// waitForLog polls the log output for a line containing want.
func waitForLog(t *testing.T, stdout *syncBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stdout.String(), want); {
		if time.Now().After(deadline) {
			t.Fatalf("no log line with %s within 5s:\n%s", want, stdout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitForHealthy polls /healthz; it never sleeps blindly.
func waitForHealthy(t *testing.T, base string, done <-chan error) {
	t.Helper()
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("run exited early: %v", err)
		default:
		}
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s/healthz not healthy within 5s", base)
}

func TestRunServesAndStops(t *testing.T) {
	base, sigterm, done, stdout := startApp(t, map[string]string{"LOG_LEVEL": "debug"})

	resp, err := http.Post(base+"/v1/evaluate", "application/json", strings.NewReader(`{"expression":"2*(3+4)"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || got["result"] != 14.0 {
		t.Fatalf("evaluate: %d %v", resp.StatusCode, got)
	}

	// Log lines are buffered, and reach stdout within the flush interval while serving.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(stdout.String(), `"msg":"request"`); {
		if time.Now().After(deadline) {
			t.Fatalf("no request line on stdout while serving:\n%s", stdout)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// The health check subcommand, against the running server.
	port := strings.TrimPrefix(base, "http://127.0.0.1:")
	if err := run(context.Background(), nil, []string{"app", "healthcheck"}, env(map[string]string{"PORT": port}), io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck against a live server: %v", err)
	}

	sigterm()
	if err := returned(t, done, "SIGTERM"); err != nil {
		t.Fatalf("run after SIGTERM: %v", err)
	}
	for _, want := range []string{`"msg":"listening"`, `"msg":"request"`, `"msg":"draining"`, `"msg":"stopped"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, stdout)
		}
	}
}

func TestHealthcheckFailsWithNoServer(t *testing.T) {
	port := freePort(t)
	err := run(context.Background(), nil, []string{"app", "healthcheck"}, env(map[string]string{"PORT": fmt.Sprint(port)}), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("healthcheck with nothing listening must fail")
	}
}

func TestHealthcheckFailsOnUnhealthyAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			t.Errorf("healthcheck asked for %s, want /healthz", r.URL.Path)
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	err := run(context.Background(), nil, []string{"app", "healthcheck"}, env(map[string]string{"PORT": fmt.Sprint(port)}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("healthcheck against a 500: want an error naming the status, got %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{"PORT": "http"}, []string{"PORT", "1 to 65535"}},
		{map[string]string{"PORT": "0"}, []string{"PORT"}},
		{map[string]string{"PORT": "70000"}, []string{"PORT"}},
		{map[string]string{"LOG_LEVEL": "verbose"}, []string{"LOG_LEVEL", "debug, info, warn or error"}},
		{map[string]string{"SHUTDOWN_TIMEOUT": "20"}, []string{"SHUTDOWN_TIMEOUT", "duration"}},
		{map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, []string{"SHUTDOWN_TIMEOUT"}},
		{map[string]string{"DRAIN_DELAY": "-1s"}, []string{"DRAIN_DELAY", "0s or more"}},
		{map[string]string{"IDLE_TIMEOUT": "65"}, []string{"IDLE_TIMEOUT", "positive Go duration"}},
		{map[string]string{"IDLE_TIMEOUT": "0s"}, []string{"IDLE_TIMEOUT"}},
		{map[string]string{"LOG_FLUSH_INTERVAL": "soon"}, []string{"LOG_FLUSH_INTERVAL", "0s or more"}},
		{map[string]string{"LOG_FLUSH_INTERVAL": "-5ms"}, []string{"LOG_FLUSH_INTERVAL"}},
		{map[string]string{"DEBUG_ADDR": "6060"}, []string{"DEBUG_ADDR", "host:port"}},
		{map[string]string{"DEBUG_ADDR": "127.0.0.1:0"}, []string{"DEBUG_ADDR", "host:port"}},
		{map[string]string{"DEBUG_ADDR": "127.0.0.1:65536"}, []string{"DEBUG_ADDR"}},
		{map[string]string{"DEBUG_ADDR": ":8080"}, []string{"DEBUG_ADDR", "the service's PORT"}},
		{map[string]string{"PORT": "9000", "DEBUG_ADDR": "127.0.0.1:9000"}, []string{"DEBUG_ADDR", "the service's PORT"}},
		// Every bad variable is reported at once.
		{map[string]string{"PORT": "x", "LOG_LEVEL": "y", "SHUTDOWN_TIMEOUT": "z"}, []string{"PORT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"}},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{"app"}, {"app", "healthcheck"}} {
			start := time.Now()
			err := run(context.Background(), nil, args, env(tt.vars), io.Discard, io.Discard)
			if err == nil {
				t.Fatalf("%v %v: want an error", args, tt.vars)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%v %v: error %q does not mention %q", args, tt.vars, err, w)
				}
			}
			if time.Since(start) > time.Second {
				t.Errorf("%v %v: a config error must fail at once", args, tt.vars)
			}
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 8080 || cfg.LogLevel.String() != "INFO" || cfg.ShutdownTimeout != 20*time.Second || cfg.DrainDelay != 0 ||
		cfg.IdleTimeout != 65*time.Second || cfg.LogFlushInterval != 100*time.Millisecond || cfg.DebugAddr != "" {
		t.Fatalf("defaults = %+v", cfg)
	}
	// What one connection may cost (TestConnectionLimits shows each acting).
	want := limits{ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 15 * time.Second, MaxHeaderBytes: 16 << 10}
	if cfg.Limits != want {
		t.Fatalf("limits = %+v, want %+v", cfg.Limits, want)
	}
}

// TestConfigTakesTheEdgesOfEachRange: the smallest and largest values a
// variable accepts are accepted.
func TestConfigTakesTheEdgesOfEachRange(t *testing.T) {
	for _, vars := range []map[string]string{
		{"PORT": "1"},
		{"PORT": "65535"},
		{"SHUTDOWN_TIMEOUT": "1ns", "IDLE_TIMEOUT": "1ns"},
		{"DRAIN_DELAY": "0s", "LOG_FLUSH_INTERVAL": "0s"},
		{"DEBUG_ADDR": "127.0.0.1:1"},
		{"DEBUG_ADDR": "localhost:65535"},
	} {
		if _, err := loadConfig(env(vars)); err != nil {
			t.Errorf("%v: %v", vars, err)
		}
	}
}

// TestLogLinesWaitForTheFlushInterval: with LOG_FLUSH_INTERVAL a request's
// line waits in memory until the interval passes (or the process exits, when
// nothing is lost); with 0s it is written before the response is complete.
func TestLogLinesWaitForTheFlushInterval(t *testing.T) {
	requestLine := `"msg":"request"`
	base, sigterm, done, stdout := startApp(t, map[string]string{"LOG_FLUSH_INTERVAL": "1h"})
	get(t, base+"/version")
	if strings.Contains(stdout.String(), requestLine) {
		t.Fatalf("with LOG_FLUSH_INTERVAL=1h a request line was written before a flush:\n%s", stdout)
	}
	sigterm()
	if err := returned(t, done, "SIGTERM"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), requestLine) {
		t.Fatalf("the buffered request line was lost at exit:\n%s", stdout)
	}

	base, _, _, stdout = startApp(t, map[string]string{"LOG_FLUSH_INTERVAL": "0s"})
	get(t, base+"/version")
	if !strings.Contains(stdout.String(), requestLine) {
		t.Fatalf("with LOG_FLUSH_INTERVAL=0s the request line must be written at once:\n%s", stdout)
	}
}

// get makes a GET on a new connection and reads the whole answer.
func get(t *testing.T, url string) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// TestConnectionLimits: a client that trickles its headers or its body is cut
// off, and headers over the limit are refused (the limits shortened here).
func TestConnectionLimits(t *testing.T) {
	cfg, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port = freePort(t)
	cfg.Limits = limits{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 400 * time.Millisecond, WriteTimeout: time.Second, MaxHeaderBytes: 1 << 10}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, nil, cfg, io.Discard) }()
	defer func() {
		cancel()
		_ = returned(t, done, "cancel")
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", cfg.Port)
	waitForHealthy(t, base, done)
	addr := strings.TrimPrefix(base, "http://")

	// Headers that never end: the connection is closed, with no request served.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprint(slow, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	if out, err := io.ReadAll(slow); err != nil || strings.Contains(string(out), "200 OK") {
		t.Fatalf("headers that never end: read %q, %v; want the connection closed", out, err)
	}

	// A body that never ends: 408 in the service's JSON.
	body, bodyReader := startSlowRequest(t, addr, 100)
	_ = body.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bodyReader, nil)
	if err != nil {
		t.Fatalf("a body that never ends: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(answer), `"code":"request_timeout"`) {
		t.Fatalf("a body that never ends: %d %s", resp.StatusCode, answer)
	}

	// Headers well over MaxHeaderBytes: 431. (net/http reads past the limit before it refuses,
	// and where in that margin a request tips over differs between Go releases.)
	if got := headerStatus(t, base, 32<<10); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("32 KiB of headers over a 1 KiB limit: %d", got)
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), nil, []string{"app", "serve-forever"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "serve-forever") {
		t.Fatalf("unknown command: %v", err)
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, []string{"app", "version"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), version+" go") {
		t.Fatalf("version output = %q", out.String())
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	err = run(context.Background(), nil, []string{"app"}, env(map[string]string{"PORT": fmt.Sprint(port)}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("port in use: want an error naming the port, got %v", err)
	}
}

// TestDrain: once shutdown starts, /readyz answers 503 (for DRAIN_DELAY the
// server goes on serving), then new connections are refused, a request
// already in flight completes, and run returns nil.
func TestDrain(t *testing.T) {
	base, sigterm, done, stdout := startApp(t, map[string]string{"SHUTDOWN_TIMEOUT": "10s", "DRAIN_DELAY": "300ms"})
	addr := strings.TrimPrefix(base, "http://")

	// A request in flight when the drain begins: a POST whose body is still coming.
	body := `{"expression":"6*7"}`
	slow, slowReader := startSlowRequest(t, addr, len(body))

	sigterm()

	// Readiness answers 503 during the drain delay, while /healthz stays 200.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	status := func(path string) int {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitForLog(t, stdout, `"msg":"draining"`)
	if got := status("/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz during drain = %d, want 503", got)
	}
	if got := status("/healthz"); got != http.StatusOK {
		t.Fatalf("/healthz during drain = %d, want 200", got)
	}

	// After the delay the listener closes: new connections are refused.
	refused := false
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Fatal("the server still accepts connections 3s after shutdown began")
	}

	stillRunning(t, done, "while a request was still in flight")

	// Finish the slow request: it must get a complete 200.
	if _, err := io.WriteString(slow, body); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(slowReader, nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || got["result"] != 42.0 {
		t.Fatalf("in-flight request: %d %v %v", resp.StatusCode, got, err)
	}

	if err := returned(t, done, "the last request finished"); err != nil {
		t.Fatalf("run after drain: %v", err)
	}
}

// TestDrainTimeout: a request that outlives SHUTDOWN_TIMEOUT makes run return
// an error naming the variable, rather than hang.
func TestDrainTimeout(t *testing.T) {
	base, sigterm, done, stdout := startApp(t, map[string]string{"SHUTDOWN_TIMEOUT": "200ms"})
	startSlowRequest(t, strings.TrimPrefix(base, "http://"), 100) // its body never comes
	sigterm()
	if err := returned(t, done, "SHUTDOWN_TIMEOUT passed"); err == nil || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
		t.Fatalf("want an error naming SHUTDOWN_TIMEOUT, got %v", err)
	}
	// The cut-off request got nothing, and its log line says so instead of a 400.
	waitForLog(t, stdout, `"aborted":"the server closed the connection before the request body arrived"`)
	if strings.Contains(stdout.String(), `"status":400`) {
		t.Fatalf("a request the shutdown cut off is logged with a status nobody received:\n%s", stdout)
	}
}

// startSlowRequest sends the headers of a POST whose body the client holds
// back, and returns once the handler is reading it: the server answers
// "Expect: 100-continue" only then. A request whose headers arrive after the
// drain began would not be served, so tests wait for this before SIGTERM.
func startSlowRequest(t *testing.T, addr string, contentLength int) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", contentLength)
	r := bufio.NewReader(conn)
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != http.StatusContinue {
		t.Fatalf("the server did not start reading the body: %v %v", resp, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, r
}

// keptAlive makes one request on a new connection and returns it, open for
// the next one (HTTP/1.1 keeps connections alive unless told otherwise).
func keptAlive(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	r := bufio.NewReader(conn)
	fmt.Fprint(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(r, nil)
	if err != nil || resp.StatusCode != 200 || resp.Close {
		t.Fatalf("a keep-alive request: %v %v", resp, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return conn, r
}

// TestIdleTimeout: a keep-alive connection left idle for IDLE_TIMEOUT is
// closed by the server. (The task definition sets it above the load
// balancer's idle timeout, so that the load balancer always closes first.)
func TestIdleTimeout(t *testing.T) {
	base, _, _, _ := startApp(t, map[string]string{"IDLE_TIMEOUT": "200ms"})
	conn, r := keptAlive(t, strings.TrimPrefix(base, "http://"))
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("an idle keep-alive connection must be closed by the server after IDLE_TIMEOUT; read: %v", err)
	}
}

// TestDrainEndsKeepAlive: once draining, the server closes idle keep-alive
// connections and answers with Connection: close, so clients (the load
// balancer among them) take their next request to another task.
func TestDrainEndsKeepAlive(t *testing.T) {
	base, sigterm, done, stdout := startApp(t, map[string]string{"DRAIN_DELAY": "10s", "SHUTDOWN_TIMEOUT": "5s"})
	idle, idleReader := keptAlive(t, strings.TrimPrefix(base, "http://"))

	sigterm()
	waitForLog(t, stdout, `"msg":"draining"`)

	_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idleReader.ReadByte(); err != io.EOF {
		t.Fatalf("an idle keep-alive connection must be closed when the drain starts; read: %v", err)
	}
	// Still serving (DRAIN_DELAY), but each answer ends its connection.
	res, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable || !res.Close {
		t.Fatalf("during the drain: %d, Connection: close %v; want 503 and close", res.StatusCode, res.Close)
	}
	stillRunning(t, done, "during DRAIN_DELAY")
}

// TestSecondSignalEndsDrain: a second SIGTERM (or Ctrl-C) does not wait for
// the drain, in either of its phases: run closes what is open and returns an
// error that says so.
func TestSecondSignalEndsDrain(t *testing.T) {
	for _, phase := range []struct {
		name string
		vars map[string]string
	}{
		{"during DRAIN_DELAY", map[string]string{"DRAIN_DELAY": "1h", "SHUTDOWN_TIMEOUT": "1h"}},
		{"while in-flight requests finish", map[string]string{"SHUTDOWN_TIMEOUT": "1h"}},
	} {
		t.Run(phase.name, func(t *testing.T) {
			base, sigterm, done, stdout := startApp(t, phase.vars)
			stuck, stuckReader := startSlowRequest(t, strings.TrimPrefix(base, "http://"), 100)
			sigterm()
			waitForLog(t, stdout, `"msg":"draining"`)
			stillRunning(t, done, "before the second signal")
			sigterm()
			if err := returned(t, done, "the second signal"); err == nil || !strings.Contains(err.Error(), "second terminated") {
				t.Fatalf("want an error naming the second signal, got %v", err)
			}
			_ = stuck.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := stuckReader.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the in-flight request's connection must be closed; read: %v", err)
			}
			if !strings.Contains(stdout.String(), `"msg":"drain ended by a second signal"`) {
				t.Errorf("no log line for the second signal:\n%s", stdout)
			}
		})
	}
}

// scaledLimits is the production limits, every duration divided by div: the
// same proportions, which decide whether a timeout's response is delivered.
func scaledLimits(div int) limits {
	l := defaultLimits
	l.ReadHeaderTimeout /= time.Duration(div)
	l.ReadTimeout /= time.Duration(div)
	l.WriteTimeout /= time.Duration(div)
	return l
}

// A body that stops short gets its 408, for every one of many clients, with
// the production limits' proportions: net/http starts the read deadline before
// the headers and the write deadline after them, so with equal timeouts the
// response is due just as writing is no longer allowed.
func TestSlowBodiesGet408WithTheProductionLimits(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{"LOG_FLUSH_INTERVAL": "0s"}))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Port = freePort(t)
	cfg.Limits = scaledLimits(30)
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, nil, cfg, logs) }()
	defer func() {
		cancel()
		_ = returned(t, done, "cancel")
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", cfg.Port)
	waitForHealthy(t, base, done)

	const clients = 200
	answers := make(chan string, clients)
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
			if err != nil {
				answers <- err.Error()
				return
			}
			defer conn.Close()
			// 6 of the 30 bytes the headers announce, then nothing.
			fmt.Fprint(conn, "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 30\r\n\r\n{\"expr")
			_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				answers <- "no response: " + err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			answers <- fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
		}()
	}
	wg.Wait()
	close(answers)
	got := map[string]int{}
	for a := range answers {
		if strings.HasPrefix(a, "408 ") && strings.Contains(a, `"code":"request_timeout"`) {
			a = "408 request_timeout"
		}
		got[a]++
	}
	if got["408 request_timeout"] != clients {
		t.Fatalf("of %d clients whose body stopped short, %d got a JSON 408; the others: %v", clients, got["408 request_timeout"], got)
	}
}

// blockedOutput is a stdout nobody reads (`app | sleep 120`): every write
// waits until it is opened.
type blockedOutput struct {
	open chan struct{}
	syncBuffer
}

func (b *blockedOutput) Write(p []byte) (int, error) {
	<-b.open
	return b.syncBuffer.Write(p)
}

// A stalled stdout must not stall serving: ECS would take a healthy task whose
// health checks time out for a dead one. Lines that do not fit are dropped and
// counted, and the count is logged once stdout takes writes again.
func TestAStalledStdoutDoesNotStallRequests(t *testing.T) {
	stdout := &blockedOutput{open: make(chan struct{})}
	port := freePort(t)
	debugAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	signals := make(chan os.Signal, 2)
	done := make(chan error, 1)
	go func() {
		vars := map[string]string{"PORT": fmt.Sprint(port), "LOG_LEVEL": "debug", "DEBUG_ADDR": debugAddr}
		done <- run(context.Background(), signals, []string{"app"}, env(vars), stdout, io.Discard)
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitForHealthy(t, base, done)

	client := &http.Client{Timeout: 5 * time.Second}
	const requests, parallel = 600, 20
	failures := make(chan string, requests)
	var wg sync.WaitGroup
	for g := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < requests; i += parallel {
				url := base + "/healthz"
				if i%2 == 1 {
					url = base + "/v1/evaluate?expr=6*7"
				}
				resp, err := client.Get(url)
				if err != nil {
					failures <- err.Error()
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failures <- resp.Status
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	var failed []string
	for f := range failures {
		failed = append(failed, f)
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d requests failed while stdout was stalled, e.g. %s", len(failed), requests, failed[0])
	}
	// The drops show on the debug listener's counters while they happen.
	resp, err := http.Get("http://" + debugAddr + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	var counters struct {
		Dropped int `json:"log_lines_dropped"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&counters)
	resp.Body.Close()
	if counters.Dropped == 0 {
		t.Error("log_lines_dropped is 0 while lines were being dropped")
	}

	close(stdout.open) // stdout drains again: the drops are reported, and the drain's lines flushed on exit
	signals <- syscall.SIGTERM
	if err := returned(t, done, "SIGTERM"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"msg":"log lines dropped"`, `"msg":"stopped"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %s", want)
		}
	}
}

// TestDebugListener: DEBUG_ADDR serves the runtime's profiles and the
// service's counters on a port of its own; the service's port serves neither.
func TestDebugListener(t *testing.T) {
	debugAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	base, _, _, stdout := startApp(t, map[string]string{"DEBUG_ADDR": debugAddr})
	before := requestsServed.Value()
	for range 3 {
		get(t, base+"/v1/evaluate?expr=1")
	}
	waitForLog(t, stdout, `"msg":"debug listener"`)

	resp, err := http.Get("http://" + debugAddr + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	var vars map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&vars); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if served, _ := vars["http_requests"].(float64); int64(served) < before+3 {
		t.Errorf("http_requests = %v, want at least %d", vars["http_requests"], before+3)
	}
	if _, ok := vars["log_lines_dropped"].(float64); !ok {
		t.Errorf("no log_lines_dropped counter: %v", vars["log_lines_dropped"])
	}
	for path, want := range map[string]string{
		"/debug/pprof/":                  "/debug/pprof/goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile: total",
		"/debug/pprof/heap?debug=1":      "heap profile:",
		"/debug/pprof/nonsense":          `no profile "nonsense"`,
	} {
		resp, err := http.Get("http://" + debugAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%s: %d %s %.200q, want text containing %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body, want)
		}
	}
	// Without ?debug, the binary form go tool pprof reads.
	if resp, err := http.Get("http://" + debugAddr + "/debug/pprof/heap"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("/debug/pprof/heap: Content-Type %q", resp.Header.Get("Content-Type"))
	}
	// A CPU profile: pprof's gzipped protocol buffer.
	resp, err = http.Get("http://" + debugAddr + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(profile, []byte{0x1f, 0x8b}) {
		t.Errorf("CPU profile: %d, %d bytes starting %x", resp.StatusCode, len(profile), profile[:min(len(profile), 4)])
	}
	resp, err = http.Get(base + "/debug/vars")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the service's port answers /debug/vars with %d", resp.StatusCode)
	}
}

// TestHeaderLimitAsDocumented: with the production limits, headers of 16 KiB
// are served and a head over 24 KiB gets 431: net/http reads 4 KiB past
// MaxHeaderBytes, and its 4 KiB read buffer, before it refuses (the README
// states the real figure).
func TestHeaderLimitAsDocumented(t *testing.T) {
	base, _, _, _ := startApp(t, map[string]string{})
	if got := headerStatus(t, base, defaultLimits.MaxHeaderBytes); got != http.StatusOK {
		t.Errorf("a %d-byte header: %d, want 200", defaultLimits.MaxHeaderBytes, got)
	}
	if got := headerStatus(t, base, 24<<10); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 24 KiB header: %d, want 431", got)
	}
}

// headerStatus is the status of GET /healthz with a header of padding bytes.
func headerStatus(t *testing.T, base string, padding int) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/healthz", nil)
	req.Header.Set("X-Padding", strings.Repeat("x", padding))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestProfileSeconds(t *testing.T) {
	for q, want := range map[string]int{"": 30, "1": 1, "90": 90, "0": 30, "-5": 30, "x": 30} {
		if got := profileSeconds(q); got != want {
			t.Errorf("profileSeconds(%q) = %d, want %d", q, got, want)
		}
	}
}

// TestLogLinesAndResultsWithTheDefaults: through run, with no configuration:
// a health check leaves no line, a request's line says where it came from and
// which route it took, and results read back as they are printed.
func TestLogLinesAndResultsWithTheDefaults(t *testing.T) {
	base, sigterm, done, stdout := startApp(t, map[string]string{})
	get(t, base+"/healthz")
	answer := func(expr string) string {
		resp, err := http.Get(base + "/v1/evaluate?expr=" + url.QueryEscape(expr))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Result json.RawMessage `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v", expr, resp.StatusCode, err)
		}
		return string(body.Result)
	}
	for expr, want := range map[string]string{"0*-1": "0", "10^21": "1e+21", "10^-7": "1e-7"} {
		got := answer(expr)
		if got != want || answer(got) != got {
			t.Errorf("%s = %s (want %s), and %s reads back as %s", expr, got, want, got, answer(got))
		}
	}
	sigterm()
	if err := returned(t, done, "SIGTERM"); err != nil {
		t.Fatal(err)
	}
	logs := stdout.String()
	if strings.Contains(logs, `"path":"/healthz"`) {
		t.Errorf("a successful health check was logged at the default level:\n%s", logs)
	}
	for _, want := range []string{`"route":"GET /v1/evaluate"`, `"client":"127.0.0.1"`, `"user_agent":"Go-http-client/1.1"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the request lines lack %s:\n%s", want, logs)
		}
	}
}
