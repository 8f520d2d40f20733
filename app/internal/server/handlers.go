package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"calculator/internal/calc"
)

type evaluateResponse struct {
	Expression string  `json:"expression"`
	Result     float64 `json:"result"`
}

func handleEvaluatePost() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
			encodeError(w, http.StatusUnsupportedMediaType, codeUnsupportedType,
				fmt.Sprintf("Content-Type must be application/json, got %q", r.Header.Get("Content-Type")))
			return
		}
		if r.ContentLength > MaxBodyBytes {
			encodeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, bodyTooLargeMessage)
			return
		}
		expr, err := decodeEvaluateRequest(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		var tooLarge *http.MaxBytesError
		var netErr net.Error
		switch {
		case errors.As(err, &netErr) && netErr.Timeout():
			encodeError(w, http.StatusRequestTimeout, codeRequestTimeout, "the request body did not arrive in time")
		case errors.Is(err, net.ErrClosed):
			abort(w, "the server closed the connection before the request body arrived")
		case errors.Is(err, syscall.ECONNRESET):
			abort(w, "the client reset the connection before the request body arrived")
		case errors.As(err, &tooLarge):
			encodeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, bodyTooLargeMessage)
		case errors.Is(err, errMissingExpression):
			encodeError(w, http.StatusBadRequest, codeMissingExpression, "the body needs an \"expression\" string, e.g. {\"expression\":\"2*(3+4)\"}")
		case err != nil:
			encodeError(w, http.StatusBadRequest, codeInvalidJSON, "request body is not valid JSON of the form {\"expression\":\"...\"}: "+err.Error())
		default:
			evaluate(w, expr, "")
		}
	}
}

var errMissingExpression = errors.New("no expression")

// decodeEvaluateRequest reads a body of exactly one JSON object whose one key
// is "expression", spelled so, holding a string. encoding/json alone would
// take the last of two "expression" keys and match "EXPRESSION" too: an
// ambiguous request is refused instead.
func decodeEvaluateRequest(body io.Reader) (string, error) {
	dec := json.NewDecoder(body)
	if tok, err := dec.Token(); err != nil {
		return "", err
	} else if tok != json.Delim('{') {
		return "", errors.New("the body must be a JSON object")
	}
	var expr *string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		key, _ := tok.(string)
		switch {
		case key != "expression" && strings.EqualFold(key, "expression"):
			return "", fmt.Errorf("unknown key %q (keys are case-sensitive: the key is \"expression\")", key)
		case key != "expression":
			return "", fmt.Errorf("unknown key %q", key)
		case expr != nil:
			return "", errors.New("the key \"expression\" is given twice")
		}
		if err := dec.Decode(&expr); err != nil {
			return "", fmt.Errorf("\"expression\" must be a string: %w", err)
		}
		if expr == nil {
			return "", errMissingExpression // "expression": null
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return "", err
	}
	// Exactly one JSON value: anything after it but whitespace is an error.
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("the body holds more than one JSON value")
		}
		return "", err
	}
	if expr == nil {
		return "", errMissingExpression
	}
	return *expr, nil
}

var bodyTooLargeMessage = fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes)

// plusHint is added to a syntax error when the raw query held a '+', which a
// query string reads as a space: "?expr=1+2" arrives as "1 2".
const plusHint = " (in a URL query a '+' means a space: send + as %2B, e.g. ?expr=1%2B2)"

func handleEvaluateGet() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// url.URL.Query drops what it cannot parse without a word; ParseQuery says why.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			encodeError(w, http.StatusBadRequest, codeInvalidQuery,
				fmt.Sprintf("the query string is malformed (%v); percent-encode the expression, e.g. ?expr=2*(3%%2B4)", err))
			return
		}
		exprs := q["expr"]
		switch len(exprs) {
		case 0:
			encodeError(w, http.StatusBadRequest, codeMissingExpression, "the query needs an expr parameter, e.g. /v1/evaluate?expr=2*(3%2B4)")
			return
		case 1:
		default:
			encodeError(w, http.StatusBadRequest, codeInvalidQuery, fmt.Sprintf("expr is given %d times; give it once", len(exprs)))
			return
		}
		hint := ""
		for _, part := range strings.Split(r.URL.RawQuery, "&") {
			if key, value, _ := strings.Cut(part, "="); key == "expr" && strings.Contains(value, "+") {
				hint = plusHint
			}
		}
		evaluate(w, exprs[0], hint)
	}
}

// evaluate answers with expr's value, or its error; hint is added to a syntax error's message.
func evaluate(w http.ResponseWriter, expr, hint string) {
	result, err := calc.Evaluate(expr)
	var e *calc.Error
	switch {
	case errors.As(err, &e) && e.Code == calc.CodeSyntax:
		encodeErrorAt(w, http.StatusBadRequest, e.Code, e.Message+hint, e.Position)
	case errors.As(err, &e):
		encodeErrorAt(w, http.StatusBadRequest, e.Code, e.Message, e.Position)
	case err != nil:
		panic(err) // Evaluate returns only *calc.Error; anything else is a bug.
	default:
		encode(w, http.StatusOK, evaluateResponse{Expression: expr, Result: result})
	}
}

type statusBody struct {
	Status string `json:"status"`
}

func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, statusBody{Status: "ok"})
	}
}

func handleReadyz(readiness *Readiness) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !readiness.Ready() {
			encode(w, http.StatusServiceUnavailable, statusBody{Status: "draining"})
			return
		}
		encode(w, http.StatusOK, statusBody{Status: "ready"})
	}
}

func handleVersion(info BuildInfo) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, info)
	}
}

type indexBody struct {
	Name    string            `json:"name"`
	Version string            `json:"version"`
	Links   map[string]string `json:"links"`
}

func handleIndex(info BuildInfo) http.HandlerFunc {
	body := indexBody{
		Name:    info.Name,
		Version: info.Version,
		Links: map[string]string{
			"evaluate": "/v1/evaluate",
			"health":   "/healthz",
			"ready":    "/readyz",
			"version":  "/version",
		},
	}
	return func(w http.ResponseWriter, r *http.Request) {
		encode(w, http.StatusOK, body)
	}
}
