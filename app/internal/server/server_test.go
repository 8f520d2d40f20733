package server

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newTestServer(t *testing.T) (http.Handler, *Readiness, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	readiness := &Readiness{}
	info := BuildInfo{Name: "calculator", Version: "src-0123456789ab", GoVersion: "go-test"}
	return NewServer(logger, info, readiness), readiness, &logs
}

type response struct {
	status int
	header http.Header
	body   map[string]any
}

func do(t *testing.T, h http.Handler, req *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type = %q, want application/json", req.Method, req.URL, ct)
	}
	var body map[string]any
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", req.Method, req.URL, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: body}
}

func postJSON(body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/v1/evaluate", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func errorOf(t *testing.T, r response) (code string, position any) {
	t.Helper()
	e, ok := r.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", r.body)
	}
	if msg, _ := e["message"].(string); msg == "" {
		t.Fatalf("error without a message: %v", e)
	}
	return e["code"].(string), e["position"]
}

func TestEvaluateOK(t *testing.T) {
	h, _, _ := newTestServer(t)
	for _, req := range []*http.Request{
		postJSON(`{"expression":"2*(3+4)"}`),
		httptest.NewRequest(http.MethodGet, "/v1/evaluate?expr=2*(3%2B4)", nil),
	} {
		r := do(t, h, req)
		if r.status != http.StatusOK || r.body["result"] != 14.0 || r.body["expression"] != "2*(3+4)" {
			t.Fatalf("%s: got %d %v, want 200 {expression:2*(3+4) result:14}", req.Method, r.status, r.body)
		}
	}
	// A charset parameter is still JSON.
	req := postJSON(`{"expression":"1.5+1"}`)
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	if r := do(t, h, req); r.status != http.StatusOK || r.body["result"] != 2.5 {
		t.Fatalf("charset: got %d %v", r.status, r.body)
	}
}

func TestEvaluateErrors(t *testing.T) {
	h, _, _ := newTestServer(t)
	big := `{"expression":"` + strings.Repeat(" ", MaxBodyBytes) + `1"}`
	tests := []struct {
		name     string
		req      *http.Request
		status   int
		code     string
		position any
	}{
		{"syntax", postJSON(`{"expression":"2*(3+"}`), 400, "syntax_error", 5.0},
		{"syntax GET", httptest.NewRequest("GET", "/v1/evaluate?expr=1%2B%2B", nil), 400, "syntax_error", 3.0},
		{"division by zero", postJSON(`{"expression":"1/0"}`), 400, "division_by_zero", 1.0},
		{"too long", postJSON(`{"expression":"` + strings.Repeat("1", 1025) + `"}`), 400, "expression_too_long", 1024.0},
		{"too deep", postJSON(`{"expression":"` + strings.Repeat("(", 65) + `1` + strings.Repeat(")", 65) + `"}`), 400, "nesting_too_deep", 64.0},
		{"not finite", postJSON(`{"expression":"10^999"}`), 400, "result_not_finite", 2.0},
		{"bad json", postJSON(`{"expression":`), 400, "invalid_json", nil},
		{"unknown field", postJSON(`{"expression":"1","x":1}`), 400, "invalid_json", nil},
		{"wrong type", postJSON(`{"expression":12}`), 400, "invalid_json", nil},
		{"two values", postJSON(`{"expression":"1"} {}`), 400, "invalid_json", nil},
		{"missing expression", postJSON(`{}`), 400, "missing_expression", nil},
		{"missing expr GET", httptest.NewRequest("GET", "/v1/evaluate", nil), 400, "missing_expression", nil},
		{"body too large", postJSON(big), 413, "payload_too_large", nil},
		{"form content type", func() *http.Request {
			r := postJSON(`expression=1`)
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}(), 415, "unsupported_media_type", nil},
		{"no content type", func() *http.Request {
			r := postJSON(`{"expression":"1"}`)
			r.Header.Del("Content-Type")
			return r
		}(), 415, "unsupported_media_type", nil},
		{"unknown path", httptest.NewRequest("GET", "/v2/evaluate", nil), 404, "not_found", nil},
		{"wrong method", httptest.NewRequest("DELETE", "/v1/evaluate", nil), 405, "method_not_allowed", nil},
		{"wrong method healthz", httptest.NewRequest("POST", "/healthz", nil), 405, "method_not_allowed", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, tt.req)
			code, pos := errorOf(t, r)
			if r.status != tt.status || code != tt.code || pos != tt.position {
				t.Fatalf("got %d %s position=%v, want %d %s position=%v (body %v)", r.status, code, pos, tt.status, tt.code, tt.position, r.body)
			}
		})
	}
}

func TestMethodNotAllowedListsAllow(t *testing.T) {
	h, _, _ := newTestServer(t)
	r := do(t, h, httptest.NewRequest(http.MethodPut, "/v1/evaluate", nil))
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Fatalf("Allow = %q, want GET and POST", allow)
	}
}

func TestProbesAndInfo(t *testing.T) {
	h, readiness, _ := newTestServer(t)
	get := func(path string) response { return do(t, h, httptest.NewRequest(http.MethodGet, path, nil)) }

	if r := get("/healthz"); r.status != 200 || r.body["status"] != "ok" {
		t.Fatalf("/healthz: %d %v", r.status, r.body)
	}
	if r := get("/readyz"); r.status != 200 || r.body["status"] != "ready" {
		t.Fatalf("/readyz before drain: %d %v", r.status, r.body)
	}
	readiness.Drain()
	if r := get("/readyz"); r.status != 503 || r.body["status"] != "draining" {
		t.Fatalf("/readyz after drain: %d %v", r.status, r.body)
	}
	if r := get("/healthz"); r.status != 200 {
		t.Fatalf("/healthz must stay 200 while draining, got %d", r.status)
	}
	if r := get("/version"); r.body["version"] != "src-0123456789ab" || r.body["go"] != "go-test" {
		t.Fatalf("/version: %v", r.body)
	}
	r := get("/")
	links, _ := r.body["links"].(map[string]any)
	if r.status != 200 || r.body["name"] != "calculator" || r.body["version"] != "src-0123456789ab" || links["evaluate"] != "/v1/evaluate" {
		t.Fatalf("/: %d %v", r.status, r.body)
	}
}

func TestRequestIDAndAccessLog(t *testing.T) {
	h, _, logs := newTestServer(t)
	req := httptest.NewRequest(http.MethodGet, "/v1/evaluate?expr=1", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	r := do(t, h, req)
	if got := r.header.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("X-Request-Id echoed = %q, want abc-123", got)
	}
	r = do(t, h, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	generated := r.header.Get("X-Request-Id")
	if len(generated) != 32 {
		t.Fatalf("generated X-Request-Id = %q, want 32 hex chars", generated)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one log line per request, got %d:\n%s", len(lines), logs)
	}
	var first struct {
		Msg        string  `json:"msg"`
		Method     string  `json:"method"`
		Path       string  `json:"path"`
		Status     int     `json:"status"`
		Bytes      int     `json:"bytes"`
		DurationMs float64 `json:"duration_ms"`
		RequestID  string  `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.Msg != "request" || first.Method != "GET" || first.Path != "/v1/evaluate" || first.Status != 200 || first.Bytes == 0 || first.RequestID != "abc-123" {
		t.Fatalf("access log line = %+v", first)
	}
	if !strings.Contains(lines[1], generated) {
		t.Fatalf("second log line lacks the generated request id %s: %s", generated, lines[1])
	}
}

func TestPanicBecomesJSON500(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	calls := 0
	h := logRequests(logger, recoverPanics(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		encode(w, http.StatusOK, statusBody{Status: "ok"})
	})))
	r := do(t, h, httptest.NewRequest(http.MethodGet, "/", nil))
	if code, _ := errorOf(t, r); r.status != 500 || code != "internal_error" {
		t.Fatalf("panic: got %d %v", r.status, r.body)
	}
	if !strings.Contains(logs.String(), `"panic":"boom"`) || !strings.Contains(logs.String(), `"status":500`) {
		t.Fatalf("panic not logged:\n%s", logs.String())
	}
	if r := do(t, h, httptest.NewRequest(http.MethodGet, "/", nil)); r.status != 200 {
		t.Fatalf("after a panic the handler must keep serving, got %d", r.status)
	}
}

func TestBodyIsReadOnlyUpToLimit(t *testing.T) {
	h, _, _ := newTestServer(t)
	// A huge body with no Content-Length must still be cut at MaxBodyBytes.
	body := io.MultiReader(strings.NewReader(`{"expression":"`), strings.NewReader(strings.Repeat("1", 10*MaxBodyBytes)), strings.NewReader(`"}`))
	req := httptest.NewRequest(http.MethodPost, "/v1/evaluate", body)
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/json")
	if r := do(t, h, req); r.status != 413 {
		t.Fatalf("chunked oversize body: got %d %v", r.status, r.body)
	}
}
