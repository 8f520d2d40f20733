package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"calculator/internal/calc"
)

type evaluateRequest struct {
	Expression *string `json:"expression"`
}

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
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		dec.DisallowUnknownFields()
		var req evaluateRequest
		err := dec.Decode(&req)
		if err == nil {
			// Exactly one JSON value: anything after it but whitespace is an error.
			if _, tailErr := dec.Token(); tailErr != io.EOF {
				err = tailErr
				if err == nil {
					err = errors.New("body holds more than one JSON value")
				}
			}
		}
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			encodeError(w, http.StatusRequestEntityTooLarge, codeTooLarge, bodyTooLargeMessage)
			return
		case err != nil:
			encodeError(w, http.StatusBadRequest, codeInvalidJSON, "request body is not valid JSON of the form {\"expression\":\"...\"}: "+err.Error())
			return
		case req.Expression == nil:
			encodeError(w, http.StatusBadRequest, codeMissingExpression, "the body needs an \"expression\" string, e.g. {\"expression\":\"2*(3+4)\"}")
			return
		}
		evaluate(w, *req.Expression)
	}
}

var bodyTooLargeMessage = fmt.Sprintf("request body exceeds %d bytes", MaxBodyBytes)

func handleEvaluateGet() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if !q.Has("expr") {
			encodeError(w, http.StatusBadRequest, codeMissingExpression, "the query needs an expr parameter, e.g. /v1/evaluate?expr=2*(3%2B4)")
			return
		}
		evaluate(w, q.Get("expr"))
	}
}

func evaluate(w http.ResponseWriter, expr string) {
	result, err := calc.Evaluate(expr)
	var e *calc.Error
	switch {
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
