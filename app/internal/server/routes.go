package server

import "net/http"

// addRoutes is the service's whole API surface.
func addRoutes(mux *http.ServeMux, info BuildInfo, readiness *Readiness) {
	mux.Handle("POST /v1/evaluate", handleEvaluatePost())
	mux.Handle("GET /v1/evaluate", handleEvaluateGet())
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(readiness))
	mux.Handle("GET /version", handleVersion(info))
	mux.Handle("GET /{$}", handleIndex(info))
}
