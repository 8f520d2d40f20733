package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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

// TestQueryMistakesAreReported: a malformed query, a repeated expr and an
// unencoded '+' each get an error that says what went wrong.
func TestQueryMistakesAreReported(t *testing.T) {
	h, _, _ := newTestServer(t)
	tests := []struct {
		query   string
		status  int
		code    string
		message string
	}{
		{"expr=%zz", 400, "invalid_query", `invalid URL escape "%zz"`},
		{"expr=1;2", 400, "invalid_query", "invalid semicolon separator"},
		{"expr=1&expr=2", 400, "invalid_query", "expr is given 2 times; give it once"},
		{"expr=1+2", 400, "syntax_error", "unexpected '2' (in a URL query a '+' means a space: send + as %2B"},
		{"expr=2*(3+4)", 400, "syntax_error", "send + as %2B"},
		{"expr=", 400, "syntax_error", "empty expression"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := do(t, h, httptest.NewRequest(http.MethodGet, "/v1/evaluate?"+tt.query, nil))
			code, _ := errorOf(t, r)
			message, _ := r.body["error"].(map[string]any)["message"].(string)
			if r.status != tt.status || code != tt.code || !strings.Contains(message, tt.message) {
				t.Fatalf("got %d %s %q, want %d %s containing %q", r.status, code, message, tt.status, tt.code, tt.message)
			}
		})
	}
	// An encoded '+' works, and a syntax error without a '+' in the query gets no hint.
	if r := do(t, h, httptest.NewRequest(http.MethodGet, "/v1/evaluate?expr=1%2B2", nil)); r.status != 200 || r.body["result"] != 3.0 {
		t.Fatalf("?expr=1%%2B2: %d %v", r.status, r.body)
	}
	r := do(t, h, httptest.NewRequest(http.MethodGet, "/v1/evaluate?expr=1%202", nil))
	if message := r.body["error"].(map[string]any)["message"].(string); strings.Contains(message, "%2B") {
		t.Fatalf("a hint about '+' without a '+' in the query: %q", message)
	}
}

// TestAmbiguousJSONIsRefused: a repeated key or a key in another case would be
// read by encoding/json as one of them; the service refuses both.
func TestAmbiguousJSONIsRefused(t *testing.T) {
	h, _, _ := newTestServer(t)
	tests := []struct {
		body    string
		message string
	}{
		{`{"expression":"1","expression":"2"}`, `the key "expression" is given twice`},
		{`{"EXPRESSION":"2"}`, `unknown key "EXPRESSION" (keys are case-sensitive: the key is "expression")`},
		{`{"Expression":"2"}`, `unknown key "Expression"`},
		{`{"expression":"1","x":1}`, `unknown key "x"`},
		{`["expression"]`, "the body must be a JSON object"},
		{`"1+1"`, "the body must be a JSON object"},
		{`{"expression":"1"}{}`, "more than one JSON value"},
		{`{"expression":["1"]}`, `"expression" must be a string`},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			r := do(t, h, postJSON(tt.body))
			code, _ := errorOf(t, r)
			message, _ := r.body["error"].(map[string]any)["message"].(string)
			if r.status != 400 || code != "invalid_json" || !strings.Contains(message, tt.message) {
				t.Fatalf("got %d %s %q, want 400 invalid_json containing %q", r.status, code, message, tt.message)
			}
		})
	}
	if r := do(t, h, postJSON(`{"expression":null}`)); r.status != 400 || r.body["error"].(map[string]any)["code"] != "missing_expression" {
		t.Fatalf(`{"expression":null}: %d %v`, r.status, r.body)
	}
	if r := do(t, h, postJSON(` {"expression" : "6*7"} `)); r.status != 200 || r.body["result"] != 42.0 {
		t.Fatalf("whitespace around the object: %d %v", r.status, r.body)
	}
}

// TestPathsNotInPlainFormGetJSON: the mux would redirect these with a
// text/html body; every answer of this API is JSON.
func TestPathsNotInPlainFormGetJSON(t *testing.T) {
	h, _, _ := newTestServer(t)
	for _, tt := range []struct{ method, path, plain string }{
		{"POST", "/v1//evaluate", "/v1/evaluate"},
		{"GET", "/v1/../healthz", "/healthz"},
		{"GET", "/./version", "/version"},
	} {
		req := httptest.NewRequest(tt.method, "/", nil)
		req.URL.Path = tt.path // httptest would clean it
		r := do(t, h, req)
		code, _ := errorOf(t, r)
		message := r.body["error"].(map[string]any)["message"].(string)
		if r.status != 404 || code != "not_found" || !strings.Contains(message, "plain form is "+tt.plain) || r.header.Get("Location") != "" {
			t.Fatalf("%s %s: %d %v %v", tt.method, tt.path, r.status, r.body, r.header)
		}
	}
}

// TestAbortedRequestIsLoggedAsSuch: a request whose connection is gone gets
// no response, and its log line says so rather than naming a status.
func TestAbortedRequestIsLoggedAsSuch(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := withMiddleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		abort(w, "the server closed the connection before the request body arrived")
	}))
	defer func() {
		if v := recover(); v != http.ErrAbortHandler {
			t.Fatalf("the abort must reach net/http as http.ErrAbortHandler, got %v", v)
		}
		line := logs.String()
		for _, want := range []string{`"level":"WARN"`, `"status":0`, `"aborted":"the server closed the connection before the request body arrived"`} {
			if !strings.Contains(line, want) {
				t.Errorf("log line lacks %s: %s", want, line)
			}
		}
	}()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/evaluate", nil))
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
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-67891233-abcdef012345678912345678")
	// The load balancer appends the address it saw; what comes before is the client's own say.
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7")
	req.Header.Set("User-Agent", "curl/8.5.0")
	r := do(t, h, req)
	if got := r.header.Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("X-Request-Id echoed = %q, want abc-123", got)
	}
	r = do(t, h, httptest.NewRequest(http.MethodGet, "/v1/evaluate?expr=2", nil))
	generated := r.header.Get("X-Request-Id")
	if len(generated) != 32 {
		t.Fatalf("generated X-Request-Id = %q, want 32 hex chars", generated)
	}

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one log line per request, got %d:\n%s", len(lines), logs)
	}
	var first map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"msg": "request", "method": "GET", "path": "/v1/evaluate", "route": "GET /v1/evaluate", "status": 200.0,
		"client": "198.51.100.7", "user_agent": "curl/8.5.0",
		"request_id": "abc-123", "trace_id": "Root=1-67891233-abcdef012345678912345678",
	}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("access log %s = %v, want %v", k, first[k], v)
		}
	}
	if first["bytes"] == 0.0 {
		t.Errorf("access log bytes = 0: %s", lines[0])
	}
	// Without X-Forwarded-For, the peer (httptest's 192.0.2.1).
	if !strings.Contains(lines[1], generated) || !strings.Contains(lines[1], `"client":"192.0.2.1"`) {
		t.Fatalf("second log line lacks the generated request id %s or the peer: %s", generated, lines[1])
	}
}

// TestHealthChecksAreLoggedAtDebug: each load balancer node and ECS probe every
// few seconds; their successes stay out of an INFO log, their failures do not.
func TestHealthChecksAreLoggedAtDebug(t *testing.T) {
	h, readiness, logs := newTestServer(t)
	do(t, h, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	do(t, h, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if logs.Len() != 0 {
		t.Fatalf("a successful health check was logged at INFO: %s", logs)
	}
	readiness.Drain()
	do(t, h, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if !strings.Contains(logs.String(), `"path":"/readyz","route":"GET /readyz","status":503`) {
		t.Fatalf("a failing health check must be logged: %q", logs)
	}
	var debug bytes.Buffer
	verbose := NewServer(slog.New(slog.NewJSONHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})), BuildInfo{}, &Readiness{})
	do(t, verbose, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if !strings.Contains(debug.String(), `"level":"DEBUG","msg":"request"`) {
		t.Fatalf("LOG_LEVEL=debug shows health checks: %q", debug.String())
	}
}

// TestAHandlersLinesCarryItsRequest: Logger(ctx) adds the request and trace IDs.
func TestAHandlersLinesCarryItsRequest(t *testing.T) {
	var logs bytes.Buffer
	h := withMiddleware(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		Logger(r.Context()).Info("looked something up", "rows", 3)
		respond(w, http.StatusOK, statusBody{Status: "ok"})
	}))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-Request-Id", "req-7")
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793")
	do(t, h, req)
	line, _, _ := strings.Cut(logs.String(), "\n")
	for _, want := range []string{`"msg":"looked something up"`, `"request_id":"req-7"`, `"trace_id":"Root=1-5759e988-bd862e3fe1be46a994272793"`, `"rows":3`} {
		if !strings.Contains(line, want) {
			t.Errorf("the handler's line lacks %s: %s", want, line)
		}
	}
	if got := Logger(context.Background()); got != slog.Default() {
		t.Fatal("outside a request, Logger is slog's default")
	}
}

func TestPanicBecomesJSON500(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	calls := 0
	h := withMiddleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			panic("boom")
		}
		respond(w, http.StatusOK, statusBody{Status: "ok"})
	}))
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

// TestRequestIDsAreKeptOnlyWhenSane: a caller's X-Request-Id is echoed and
// logged if it is 1 to 128 visible ASCII characters; otherwise one is made.
func TestRequestIDsAreKeptOnlyWhenSane(t *testing.T) {
	h, _, _ := newTestServer(t)
	for _, tt := range []struct {
		id   string
		kept bool
	}{
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"!~", true}, // the first and last visible ASCII characters
		{"a b", false},
		{"a\x7f", false},
		{"é", false},
	} {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Header.Set("X-Request-Id", tt.id)
		got := do(t, h, req).header.Get("X-Request-Id")
		if (got == tt.id) != tt.kept {
			t.Errorf("X-Request-Id %q: answered %q, kept=%v", tt.id, got, tt.kept)
		}
		if !tt.kept && len(got) != 32 {
			t.Errorf("X-Request-Id %q: made %q, want 32 hex characters", tt.id, got)
		}
	}
}

// TestABodyOfExactlyTheLimitIsRead: MaxBodyBytes is the largest body taken, not the smallest refused.
func TestABodyOfExactlyTheLimitIsRead(t *testing.T) {
	h, _, _ := newTestServer(t)
	json := `{"expression":"6*7"}`
	body := json + strings.Repeat(" ", MaxBodyBytes-len(json))
	req := postJSON(body)
	if req.ContentLength != MaxBodyBytes {
		t.Fatalf("Content-Length %d, want %d", req.ContentLength, MaxBodyBytes)
	}
	if r := do(t, h, req); r.status != 200 || r.body["result"] != 42.0 {
		t.Fatalf("a body of exactly %d bytes: %d %v", MaxBodyBytes, r.status, r.body)
	}
	if r := do(t, h, postJSON(body+" ")); r.status != 413 {
		t.Fatalf("a body of %d bytes: %d %v", MaxBodyBytes+1, r.status, r.body)
	}
}

// TestAccessLogDurationIsInMilliseconds: a request that takes 30 ms is logged as 30 ms or more, not 30,000.
func TestAccessLogDurationIsInMilliseconds(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	h := withMiddleware(logger, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
		respond(w, http.StatusOK, statusBody{Status: "ok"})
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	var line struct {
		DurationMs float64 `json:"duration_ms"`
	}
	if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	if line.DurationMs < 30 || line.DurationMs > 60_000 {
		t.Fatalf("duration_ms = %v for a 30 ms request", line.DurationMs)
	}
}

// TestATrailingSlashIsAPathOfItsOwn: "/v1/evaluate/" is in plain form; it is
// simply no route (the mux's own 404, not the plain-form one).
func TestATrailingSlashIsAPathOfItsOwn(t *testing.T) {
	h, _, _ := newTestServer(t)
	r := do(t, h, httptest.NewRequest(http.MethodGet, "/v1/evaluate/", nil))
	message := r.body["error"].(map[string]any)["message"].(string)
	if r.status != 404 || strings.Contains(message, "plain form") {
		t.Fatalf("GET /v1/evaluate/: %d %q", r.status, message)
	}
}
