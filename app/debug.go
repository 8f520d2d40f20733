package main

// The opt-in debug listener (DEBUG_ADDR): pprof's profiles and expvar's
// counters, on a listener of its own, so that the service's port never
// serves them and the load balancer never reaches them.

import (
	"expvar"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"time"

	"calculator/internal/logbuf"
)

var (
	// requestsServed counts the requests the service's handler took.
	requestsServed = expvar.NewInt("http_requests")
	// servingLog is the log writer of the server running now, whose drops /debug/vars shows.
	servingLog atomic.Pointer[logbuf.Writer]
)

func init() {
	expvar.Publish("log_lines_dropped", expvar.Func(func() any {
		if w := servingLog.Load(); w != nil {
			return w.Dropped()
		}
		return 0
	}))
}

// countRequests counts every request for /debug/vars.
func countRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requestsServed.Add(1)
		next.ServeHTTP(w, r)
	})
}

// startDebug serves /debug/pprof/ and /debug/vars on addr until the returned
// server is closed.
func startDebug(addr string, readHeaderTimeout time.Duration, logger *slog.Logger) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("GET /debug/vars", expvar.Handler())
	mux.HandleFunc("GET /debug/pprof/{profile}", serveProfile)
	mux.HandleFunc("GET /debug/pprof/{$}", listProfiles)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on DEBUG_ADDR %s: %w", addr, err)
	}
	// No write timeout: a CPU profile streams for as long as it was asked.
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: readHeaderTimeout, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() { _ = srv.Serve(ln) }()
	logger.Info("debug listener", "addr", ln.Addr().String(), "paths", "/debug/pprof/, /debug/vars")
	return srv, nil
}

// serveProfile writes a runtime/pprof profile: /debug/pprof/heap, goroutine,
// allocs, block, mutex, threadcreate (?debug=1 or 2 for text), and
// /debug/pprof/profile?seconds=N for CPU. (net/http/pprof serves the same and
// an HTML index, whose templates would add another 0.3 MB to the binary.)
func serveProfile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("profile")
	debug, _ := strconv.Atoi(r.URL.Query().Get("debug"))
	if name == "profile" {
		seconds := profileSeconds(r.URL.Query().Get("seconds"))
		w.Header().Set("Content-Type", "application/octet-stream")
		if err := pprof.StartCPUProfile(w); err != nil {
			http.Error(w, err.Error(), http.StatusConflict) // another CPU profile is running
			return
		}
		select {
		case <-time.After(time.Duration(seconds) * time.Second):
		case <-r.Context().Done():
		}
		pprof.StopCPUProfile()
		return
	}
	p := pprof.Lookup(name)
	if p == nil {
		http.Error(w, fmt.Sprintf("no profile %q; see /debug/pprof/", name), http.StatusNotFound)
		return
	}
	if debug > 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	_ = p.WriteTo(w, debug)
}

// profileSeconds is how long a CPU profile runs: ?seconds=N, 30 by default (as net/http/pprof).
func profileSeconds(q string) int {
	if n, err := strconv.Atoi(q); err == nil && n > 0 {
		return n
	}
	return 30
}

// listProfiles names what /debug/pprof/ serves.
func listProfiles(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "/debug/pprof/profile?seconds=30  CPU profile")
	for _, p := range pprof.Profiles() {
		fmt.Fprintf(w, "/debug/pprof/%s  %d\n", p.Name(), p.Count())
	}
	fmt.Fprintln(w, "/debug/vars  expvar: http_requests, log_lines_dropped, memstats")
}
