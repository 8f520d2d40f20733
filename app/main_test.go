package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// startApp runs the service as main would and returns its base URL, a cancel
// that plays SIGTERM, a channel with run's result and the log output.
func startApp(t *testing.T, vars map[string]string) (string, context.CancelFunc, <-chan error, *syncBuffer) {
	t.Helper()
	port := freePort(t)
	vars["PORT"] = fmt.Sprint(port)
	ctx, cancel := context.WithCancel(context.Background())
	stdout := &syncBuffer{}
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- run(ctx, []string{"app"}, env(vars), stdout, io.Discard)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitForHealthy(t, base, done)
	return base, cancel, done, stdout
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
	base, cancel, done, stdout := startApp(t, map[string]string{"LOG_LEVEL": "debug"})

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
	if err := run(context.Background(), []string{"app", "healthcheck"}, env(map[string]string{"PORT": port}), io.Discard, io.Discard); err != nil {
		t.Fatalf("healthcheck against a live server: %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not stop within 5s of cancel")
	}
	for _, want := range []string{`"msg":"listening"`, `"msg":"request"`, `"msg":"draining"`, `"msg":"stopped"`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, stdout)
		}
	}
}

func TestHealthcheckFailsWithNoServer(t *testing.T) {
	port := freePort(t)
	err := run(context.Background(), []string{"app", "healthcheck"}, env(map[string]string{"PORT": fmt.Sprint(port)}), io.Discard, io.Discard)
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
	err := run(context.Background(), []string{"app", "healthcheck"}, env(map[string]string{"PORT": fmt.Sprint(port)}), io.Discard, io.Discard)
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
		{map[string]string{"LOG_FLUSH_INTERVAL": "soon"}, []string{"LOG_FLUSH_INTERVAL", "0s or more"}},
		{map[string]string{"LOG_FLUSH_INTERVAL": "-5ms"}, []string{"LOG_FLUSH_INTERVAL"}},
		// Every bad variable is reported at once.
		{map[string]string{"PORT": "x", "LOG_LEVEL": "y", "SHUTDOWN_TIMEOUT": "z"}, []string{"PORT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"}},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{"app"}, {"app", "healthcheck"}} {
			start := time.Now()
			err := run(context.Background(), args, env(tt.vars), io.Discard, io.Discard)
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
		cfg.LogFlushInterval != 100*time.Millisecond {
		t.Fatalf("defaults = %+v", cfg)
	}
}

func TestUnknownCommand(t *testing.T) {
	err := run(context.Background(), []string{"app", "serve-forever"}, env(nil), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "serve-forever") {
		t.Fatalf("unknown command: %v", err)
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"app", "version"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), version+" "+commit+" go") {
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
	err = run(context.Background(), []string{"app"}, env(map[string]string{"PORT": fmt.Sprint(port)}), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(port)) {
		t.Fatalf("port in use: want an error naming the port, got %v", err)
	}
}

// TestDrain: once shutdown starts, /readyz answers 503 (for DRAIN_DELAY the
// server goes on serving), then new connections are refused, a request
// already in flight completes, and run returns nil.
func TestDrain(t *testing.T) {
	base, cancel, done, stdout := startApp(t, map[string]string{"SHUTDOWN_TIMEOUT": "10s", "DRAIN_DELAY": "300ms"})
	addr := strings.TrimPrefix(base, "http://")

	// A request in flight when the drain begins: a POST whose body is still coming.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	body := `{"expression":"6*7"}`
	fmt.Fprintf(slow, "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:5])
	// Give the server a moment to read the headers; a request whose headers
	// arrive after shutdown began is not served by net/http.
	time.Sleep(100 * time.Millisecond)

	cancel() // SIGTERM

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
	for deadline := time.Now().Add(2 * time.Second); !strings.Contains(stdout.String(), `"msg":"draining"`); {
		if time.Now().After(deadline) {
			t.Fatal("no draining log line within 2s of cancel")
		}
		time.Sleep(5 * time.Millisecond)
	}
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

	select {
	case err := <-done:
		t.Fatalf("run returned (%v) while a request was still in flight", err)
	default:
	}

	// Finish the slow request: it must get a complete 200.
	if _, err := io.WriteString(slow, body[5:]); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(slow), nil)
	if err != nil {
		t.Fatalf("in-flight request lost: %v", err)
	}
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 || got["result"] != 42.0 {
		t.Fatalf("in-flight request: %d %v %v", resp.StatusCode, got, err)
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run after drain: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after the last request finished")
	}
}

// TestDrainTimeout: a request that outlives SHUTDOWN_TIMEOUT makes run return
// an error naming the variable, rather than hang.
func TestDrainTimeout(t *testing.T) {
	base, cancel, done, _ := startApp(t, map[string]string{"SHUTDOWN_TIMEOUT": "200ms"})
	stuck, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	fmt.Fprint(stuck, "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	time.Sleep(100 * time.Millisecond) // let the server accept and start reading the body
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
			t.Fatalf("want an error naming SHUTDOWN_TIMEOUT, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not give up after SHUTDOWN_TIMEOUT")
	}
}
