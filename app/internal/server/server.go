// Package server is the HTTP face of the calculator: routes, handlers,
// middleware and the JSON wire format.
package server

import (
	"log/slog"
	"net/http"
	"sync/atomic"
)

// Limits on a request, beyond the evaluator's own.
const MaxBodyBytes = 16 << 10

// BuildInfo is stamped into the binary at build time and served by /version.
type BuildInfo struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	GoVersion string `json:"go"`
}

// Readiness reports whether the process should receive new traffic. It turns
// false once, when shutdown begins.
type Readiness struct{ draining atomic.Bool }

// Drain marks the process as shutting down: /readyz answers 503 from now on.
func (r *Readiness) Drain() { r.draining.Store(true) }

// Ready is true until Drain is called.
func (r *Readiness) Ready() bool { return !r.draining.Load() }

// NewServer returns the service's whole HTTP handler: every route, wrapped in
// the request's context (request ID, trace ID, logger), logging and panic
// recovery.
func NewServer(logger *slog.Logger, info BuildInfo, readiness *Readiness) http.Handler {
	mux := http.NewServeMux()
	addRoutes(mux, info, readiness)
	return withMiddleware(logger, jsonForUnmatched(mux))
}

// withMiddleware wraps a handler in what every request goes through: its
// context (request ID, trace ID, logger), the access log and panic recovery.
func withMiddleware(logger *slog.Logger, h http.Handler) http.Handler {
	return requestContext(logger, logRequests(recoverPanics(h)))
}
