package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

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
			// The read deadline has passed, and the write deadline (net/http sets it once the
			// headers are read) passes a moment later: give the 408 its own time to be sent.
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(errorResponseGrace))
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

// errorResponseGrace is how long an error response after a read timeout may take to write.
const errorResponseGrace = 2 * time.Second

// evaluateRequest is POST /v1/evaluate's body: {"expression":"2*(3+4)"}.
type evaluateRequest struct {
	Expression *string `json:"expression"`
}

// decodeEvaluateRequest reads the body strictly (see decode); a missing or null expression is its own error.
func decodeEvaluateRequest(body io.Reader) (string, error) {
	req, err := decode[evaluateRequest](body)
	if err != nil {
		return "", err
	}
	if req.Expression == nil {
		return "", errMissingExpression
	}
	return *req.Expression, nil
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
		respond(w, http.StatusOK, evaluateResponse{Expression: expr, Result: result})
	}
}

type statusBody struct {
	Status string `json:"status"`
}

func handleHealthz() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, statusBody{Status: "ok"})
	}
}

func handleReadyz(readiness *Readiness) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !readiness.Ready() {
			respond(w, http.StatusServiceUnavailable, statusBody{Status: "draining"})
			return
		}
		respond(w, http.StatusOK, statusBody{Status: "ready"})
	}
}

func handleVersion(info BuildInfo) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK, info)
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
		respond(w, http.StatusOK, body)
	}
}
