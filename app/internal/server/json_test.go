package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestDecodeIsStrictForAnyType: the decoder a new handler reuses refuses what
// encoding/json would read quietly, for whatever struct it is given.
func TestDecodeIsStrictForAnyType(t *testing.T) {
	type order struct {
		Item     string `json:"item"`
		Quantity int    `json:"quantity,omitempty"`
		Gift     bool
		Internal string `json:"-"`
	}
	got, err := decode[order](strings.NewReader(` {"item":"tea","quantity":2,"Gift":true} `))
	if err != nil || got != (order{Item: "tea", Quantity: 2, Gift: true}) {
		t.Fatalf("a valid body: %+v, %v", got, err)
	}
	for body, want := range map[string]string{
		`{"item":"tea","item":"coffee"}`: `the key "item" is given twice`,
		`{"Item":"tea"}`:                 `unknown key "Item" (keys are case-sensitive: the key is "item")`,
		`{"gift":true}`:                  `unknown key "gift" (keys are case-sensitive: the key is "Gift")`,
		`{"Internal":"x"}`:               `unknown key "Internal"`,
		`{"item":"tea","colour":"red"}`:  `unknown key "colour"`,
		`{"quantity":"two"}`:             `"quantity" must be a number, not string`,
		`{"item":["tea"]}`:               `"item" must be a string, not array`,
		`[{"item":"tea"}]`:               "the body must be a JSON object",
		`{"item":"tea"} {}`:              "more than one JSON value",
		`{"item":`:                       "EOF",
	} {
		if _, err := decode[order](strings.NewReader(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", body, err, want)
		}
	}
}

// TestAValueThatCannotBeEncodedIsA500: marshalled before anything is sent, so
// the client gets the service's JSON 500, not a 200 with an empty body.
func TestAValueThatCannotBeEncodedIsA500(t *testing.T) {
	var logs bytes.Buffer
	h := withMiddleware(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, map[string]float64{"result": math.NaN()})
	}))
	r := do(t, h, httptest.NewRequest(http.MethodGet, "/", nil))
	if code, _ := errorOf(t, r); r.status != 500 || code != codeInternal {
		t.Fatalf("an unencodable value: %d %v", r.status, r.body)
	}
	if !strings.Contains(logs.String(), "not encodable as JSON") {
		t.Fatalf("the encoding error is not logged: %s", logs.String())
	}
	rec := httptest.NewRecorder()
	if err := encode(rec, http.StatusOK, make(chan int)); err == nil || rec.Code != 200 || rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
		t.Fatalf("encode must send nothing and return the error: %v, %d %q", err, rec.Code, rec.Body.String())
	}
}

// TestAPanicAfterTheResponseStartedIsNotASecondDocument: the response is cut
// off, never followed by a 500's body, and the log says what happened.
func TestAPanicAfterTheResponseStartedIsNotASecondDocument(t *testing.T) {
	var logs syncLog
	srv := httptest.NewServer(withMiddleware(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, statusBody{Status: "ok"})
		http.NewResponseController(w).Flush()
		panic("late")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	dec := json.NewDecoder(bytes.NewReader(body))
	var first, second any
	if err := dec.Decode(&first); err != nil || dec.Decode(&second) != io.EOF || resp.StatusCode != 200 {
		t.Fatalf("the client got %d %q: want the first document alone", resp.StatusCode, body)
	}
	srv.Close() // the server's own goroutines are done: the log is complete
	for _, want := range []string{`"msg":"panic"`, `"panic":"late"`, `"aborted":"the handler panicked after the response started"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}

// syncLog is a log destination safe to read while a server writes to it.
type syncLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// undeliverable is a connection whose writes no longer go out (the client
// left, or the write deadline passed): the flush fails.
type undeliverable struct{ *httptest.ResponseRecorder }

func (undeliverable) FlushError() error { return errors.New("write tcp: i/o timeout") }

// TestAResponseThatWasNotDeliveredIsLoggedSo: the access log names the status
// the handler chose and that it did not reach the client.
func TestAResponseThatWasNotDeliveredIsLoggedSo(t *testing.T) {
	for _, status := range []int{http.StatusRequestTimeout, http.StatusBadRequest} {
		var logs bytes.Buffer
		h := withMiddleware(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			encodeError(w, status, codeRequestTimeout, "the request body did not arrive in time")
		}))
		h.ServeHTTP(undeliverable{httptest.NewRecorder()}, httptest.NewRequest(http.MethodPost, "/v1/evaluate", nil))
		for _, want := range []string{`"level":"WARN"`, `"write_error":"write tcp: i/o timeout"`, fmt.Sprintf(`"status":%d`, status)} {
			if !strings.Contains(logs.String(), want) {
				t.Errorf("%d: log lacks %s: %s", status, want, logs.String())
			}
		}
	}
	// A success is written by net/http after the handler, not flushed here (see logRequests).
	var logs bytes.Buffer
	h := withMiddleware(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, statusBody{Status: "ok"})
	}))
	h.ServeHTTP(undeliverable{httptest.NewRecorder()}, httptest.NewRequest(http.MethodGet, "/", nil))
	if strings.Contains(logs.String(), "write_error") {
		t.Errorf("a success was flushed in the middleware: %s", logs.String())
	}
}

// unwritable is a connection whose first write already fails (a body larger
// than net/http's buffer goes straight to the socket).
type unwritable struct{ *httptest.ResponseRecorder }

func (unwritable) Write([]byte) (int, error) { return 0, errors.New("write tcp: broken pipe") }

func TestAWriteThatFailsIsLoggedSo(t *testing.T) {
	var logs bytes.Buffer
	h := withMiddleware(slog.New(slog.NewJSONHandler(&logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, statusBody{Status: "ok"})
	}))
	h.ServeHTTP(unwritable{httptest.NewRecorder()}, httptest.NewRequest(http.MethodGet, "/", nil))
	for _, want := range []string{`"level":"WARN"`, `"write_error":"write tcp: broken pipe"`, `"bytes":0`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s: %s", want, logs.String())
		}
	}
}
