package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
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

// encode answers with v as JSON and the status. v is marshalled before
// anything is sent, so a value that cannot be encoded sends nothing and
// returns the error (the caller still owns the response); a failed write
// (the client left, the write deadline passed) is returned too.
func encode(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%w: %T: %w", errUnencodable, v, err)
	}
	body = append(body, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}

// respond is encode for the handlers' own values: one that cannot be encoded
// is a bug, which recoverPanics answers with a 500 and logs with its stack.
// A failed write needs nothing here: the access log reports what it sees of
// it (see logRequests).
func respond(w http.ResponseWriter, status int, v any) {
	if err := encode(w, status, v); errors.Is(err, errUnencodable) {
		panic(err)
	}
}

// errUnencodable is encode's error for a value json.Marshal refuses; nothing was sent then.
var errUnencodable = errors.New("not encodable as JSON")

func encodeError(w http.ResponseWriter, status int, code, message string) {
	respond(w, status, errorBody{Error: apiError{Code: code, Message: message}})
}

func encodeErrorAt(w http.ResponseWriter, status int, code, message string, position int) {
	respond(w, status, errorBody{Error: apiError{Code: code, Message: message, Position: &position}})
}

// decode reads a body of exactly one JSON object into a T. Besides what
// encoding/json refuses, it refuses what encoding/json would read quietly:
// a key T has no field for, a key given twice (encoding/json keeps the last)
// and a key in another case than the field's (encoding/json matches it), so
// an ambiguous request is an error rather than a guess. Errors of the body's
// reader (a timeout, a body over its limit) come back as they are.
func decode[T any](body io.Reader) (T, error) {
	var v T
	data, err := io.ReadAll(body)
	if err != nil {
		return v, err
	}
	if err := checkKeys(data, fieldNames(reflect.TypeFor[T]())); err != nil {
		return v, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return v, fmt.Errorf("%q must be %s, not %s", typeErr.Field, kindName(typeErr.Type), typeErr.Value)
		}
		return v, err
	}
	// Exactly one JSON value: anything after it but whitespace is an error.
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			err = errors.New("the body holds more than one JSON value")
		}
		return v, err
	}
	return v, nil
}

// checkKeys walks the top-level object's keys against the fields a struct has.
func checkKeys(data []byte, fields []string) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return errors.New("the body must be a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		known := false
		for _, f := range fields {
			if key == f {
				known = true
			} else if strings.EqualFold(key, f) {
				return fmt.Errorf("unknown key %q (keys are case-sensitive: the key is %q)", key, f)
			}
		}
		switch {
		case !known:
			return fmt.Errorf("unknown key %q", key)
		case seen[key]:
			return fmt.Errorf("the key %q is given twice", key)
		}
		seen[key] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return err
		}
	}
	return nil
}

// fieldNames is the JSON keys of a struct type's exported fields.
func fieldNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// kindName says what a Go type is as JSON: "a string", "a number"…
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	default:
		return "a number"
	}
}
