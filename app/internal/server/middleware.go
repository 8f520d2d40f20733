package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"time"
)

// requestID takes the caller's X-Request-Id when it is sane, or makes one, and
// echoes it on the response so a client can quote it when reporting a problem.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r)
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux since Go 1.24
	return hex.EncodeToString(b[:])
}

// statusRecorder remembers what was written, for the access log.
type statusRecorder struct {
	http.ResponseWriter
	status  int
	bytes   int
	aborted string // why no response was sent, when a handler gave up on the connection
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// abort gives up on a request whose connection is gone: nothing can be sent,
// and the access log says why instead of naming a status nobody received.
func abort(w http.ResponseWriter, reason string) {
	for {
		if rec, ok := w.(*statusRecorder); ok {
			rec.aborted = reason
			break
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		w = u.Unwrap()
	}
	panic(http.ErrAbortHandler) // net/http's way to drop a response
}

// logRequests writes one JSON line per request once it is answered, or
// once it is aborted (status 0 then, and why).
func logRequests(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			level, attrs := slog.LevelInfo, []slog.Attr(nil)
			v := recover() // only http.ErrAbortHandler reaches here: recoverPanics answers the rest
			if v != nil {
				if rec.aborted == "" {
					rec.aborted = "the handler aborted the response"
				}
				level, rec.status = slog.LevelWarn, 0
				attrs = append(attrs, slog.String("aborted", rec.aborted))
			} else if rec.status == 0 {
				rec.status = http.StatusOK
			}
			attrs = append(attrs,
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("request_id", r.Header.Get("X-Request-Id")),
			)
			logger.LogAttrs(r.Context(), level, "request", attrs...)
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// recoverPanics turns a handler's panic into a JSON 500 and an error log line;
// the server goes on serving.
func recoverPanics(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the documented way to abort a response; net/http handles it
			}
			logger.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("request_id", r.Header.Get("X-Request-Id")),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
			)
			encodeError(w, http.StatusInternalServerError, codeInternal, "internal error; quote the X-Request-Id header when reporting it")
		}()
		next.ServeHTTP(w, r)
	})
}

// jsonForUnmatched answers requests no route matches with the service's JSON
// errors: 404 for an unknown path, 405 with Allow for a known path and a
// method it does not serve, and 404 for a path not in its plain form
// ("/v1//evaluate", "/v1/../healthz"), which the mux would redirect with a
// text/html body. Matched requests go to the mux unchanged.
func jsonForUnmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if clean := cleanPath(r.URL.Path); clean != r.URL.Path {
			encodeError(w, http.StatusNotFound, codeNotFound,
				fmt.Sprintf("no route for %s %s; the path in its plain form is %s", r.Method, r.URL.Path, clean))
			return
		}
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		// Let the mux decide between 404 and 405 (and compute Allow), then
		// replace its text/plain body with JSON.
		probe := &headerProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		switch probe.status {
		case http.StatusMethodNotAllowed:
			encodeError(w, probe.status, codeMethodNotAllowed,
				fmt.Sprintf("%s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, probe.header.Get("Allow")))
		default:
			encodeError(w, http.StatusNotFound, codeNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
		}
	})
}

// cleanPath is the path the mux would redirect to: rooted, no "//", "." or
// "..", a trailing slash kept.
func cleanPath(p string) string {
	clean := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// headerProbe records the status and headers a handler writes and drops its body.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.status = code }
