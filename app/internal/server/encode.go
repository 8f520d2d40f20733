package server

import (
	"encoding/json"
	"net/http"
)

// errorBody is the one error shape the service returns:
// {"error":{"code":"...","message":"...","position":N}}.
type errorBody struct {
	Error apiError `json:"error"`
}

type apiError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Position *int   `json:"position,omitempty"`
}

// Error codes the HTTP layer adds to the evaluator's.
const (
	codeInvalidJSON       = "invalid_json"
	codeInvalidQuery      = "invalid_query"
	codeMissingExpression = "missing_expression"
	codeMethodNotAllowed  = "method_not_allowed"
	codeNotFound          = "not_found"
	codeTooLarge          = "payload_too_large"
	codeRequestTimeout    = "request_timeout"
	codeUnsupportedType   = "unsupported_media_type"
	codeInternal          = "internal_error"
)

func encode(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	// The status line is already sent; a failed write means the client left.
	_ = json.NewEncoder(w).Encode(v)
}

func encodeError(w http.ResponseWriter, status int, code, message string) {
	encode(w, status, errorBody{Error: apiError{Code: code, Message: message}})
}

func encodeErrorAt(w http.ResponseWriter, status int, code, message string, position int) {
	encode(w, status, errorBody{Error: apiError{Code: code, Message: message, Position: &position}})
}
