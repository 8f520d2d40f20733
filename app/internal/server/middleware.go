package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// requestContext takes the caller's X-Request-Id when it is sane, or makes
// one, and echoes it on the response so a client can quote it when reporting
// a problem. The request's context carries the request ID and the load
// balancer's trace ID, and a logger that adds both (see Logger).
func requestContext(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
			r.Header.Set("X-Request-Id", id)
		}
		w.Header().Set("X-Request-Id", id)
		info := &requestInfo{base: logger, id: id}
		if trace := r.Header.Get("X-Amzn-Trace-Id"); validRequestID(trace) {
			info.trace = trace
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
	})
}

type requestInfoKey struct{}

// requestInfo is what the context knows of its request. The logger with the
// IDs is made when first asked for: most requests log only their access line,
// which adds the IDs itself.
type requestInfo struct {
	base      *slog.Logger
	id, trace string
	once      sync.Once
	logger    *slog.Logger
}

// appendAttrs adds the request's IDs to attrs: the access line's, and its logger's.
func (i *requestInfo) appendAttrs(attrs []slog.Attr) []slog.Attr {
	attrs = append(attrs, slog.String("request_id", i.id))
	if i.trace != "" {
		attrs = append(attrs, slog.String("trace_id", i.trace))
	}
	return attrs
}

// Logger is the logger of the request ctx belongs to: its lines carry the
// request ID and trace ID, so a handler's own lines tie to the request's.
// Outside a request it is slog's default logger.
func Logger(ctx context.Context) *slog.Logger {
	info, ok := ctx.Value(requestInfoKey{}).(*requestInfo)
	if !ok {
		return slog.Default()
	}
	info.once.Do(func() {
		info.logger = slog.New(info.base.Handler().WithAttrs(info.appendAttrs(nil)))
	})
	return info.logger
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
	status   int
	bytes    int    // bytes of the body the connection took
	aborted  string // why no response was sent, when a handler gave up on the connection
	writeErr error  // the first failed write: what the client got ends there
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
	if err != nil && s.writeErr == nil {
		s.writeErr = err
	}
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

// healthCheckPaths are probed every few seconds by each load balancer node and
// by ECS: their successful answers are logged at DEBUG, not to drown the rest.
var healthCheckPaths = map[string]bool{"/healthz": true, "/readyz": true}

// logRequests writes one JSON line per request once it is answered, or
// once it is aborted (status 0 then, and why). An error response is flushed
// first, so that one that does not go out (the write deadline passed, as
// after a read timeout; the client left) is reported with a write_error
// instead of as a status nobody received. A success is left to net/http's
// own write after the handler: flushing every response here costs about a
// tenth of the requests a CPU serves (measured with wrk), and a failed write
// of a body larger than net/http's buffer is still caught.
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			// Sized for every attribute a line can have, so that it is one allocation.
			level, attrs := slog.LevelInfo, make([]slog.Attr, 0, 14)
			v := recover() // only http.ErrAbortHandler reaches here: recoverPanics answers the rest
			if v != nil {
				if rec.aborted == "" {
					rec.aborted = "the handler aborted the response"
				}
				level, rec.status = slog.LevelWarn, 0
				attrs = append(attrs, slog.String("aborted", rec.aborted))
			} else {
				if rec.status == 0 {
					rec.status = http.StatusOK
				}
				if rec.status >= 400 {
					if err := http.NewResponseController(w).Flush(); err != nil && rec.writeErr == nil {
						rec.writeErr = err
					}
				}
				if healthCheckPaths[r.URL.Path] && rec.status == http.StatusOK {
					level = slog.LevelDebug
				}
			}
			if rec.writeErr != nil {
				// The response did not reach the client, or not whole: say so next to the status.
				level = slog.LevelWarn
				attrs = append(attrs, slog.String("write_error", rec.writeErr.Error()))
			}
			info, _ := r.Context().Value(requestInfoKey{}).(*requestInfo)
			if info != nil {
				attrs = info.appendAttrs(attrs)
			}
			attrs = append(attrs,
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("route", r.Pattern),
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
				slog.String("client", clientAddr(r)),
				slog.String("user_agent", r.UserAgent()),
			)
			logger := slog.Default()
			if info != nil {
				logger = info.base
			}
			logger.LogAttrs(r.Context(), level, "request", attrs...)
			if v != nil {
				panic(v)
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// clientAddr is who made the request: behind the load balancer, the address
// it appended to X-Forwarded-For (the last entry; earlier ones are whatever
// the client sent), else the connection's peer.
func clientAddr(r *http.Request) string {
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		field := xff[len(xff)-1]
		if last := strings.TrimSpace(field[strings.LastIndexByte(field, ',')+1:]); last != "" {
			return last
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// recoverPanics turns a handler's panic into a JSON 500 and an error log line;
// the server goes on serving. A panic after the response has started cannot
// become a 500 (a second JSON document would follow the first on the same
// response): the response is cut off instead, and logged as aborted.
func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // the documented way to abort a response; net/http handles it
			}
			Logger(r.Context()).LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())),
			)
			if responseStarted(w) {
				abort(w, "the handler panicked after the response started")
			}
			encodeError(w, http.StatusInternalServerError, codeInternal, "internal error; quote the X-Request-Id header when reporting it")
		}()
		next.ServeHTTP(w, r)
	})
}

// responseStarted reports whether a status was written (and perhaps a body).
func responseStarted(w http.ResponseWriter) bool {
	for {
		if rec, ok := w.(*statusRecorder); ok {
			return rec.status != 0
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return false
		}
		w = u.Unwrap()
	}
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
