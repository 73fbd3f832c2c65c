package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"citygrid"
)

func writeJSON(w http.ResponseWriter, status int, v any) error {
	writeJSONStatus(w, "application/json", status, v)
	return nil
}

func writeJSONStatus(w http.ResponseWriter, contentType string, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"title":"Internal error","status":500}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType+"; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// decodeJSON reads exactly one JSON value into v from a body capped at
// limit bytes. Unknown fields, trailing data, wrong types and oversize
// bodies are client errors that name what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
		return citygrid.Errorf(citygrid.CodeInvalid, "Content-Type %q is not JSON", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, limit)
	}
	if _, err := dec.Token(); err != io.EOF {
		return citygrid.Errorf(citygrid.CodeInvalid, "request body has data after the JSON value")
	}
	return nil
}

// jsonError classifies an encoding/json error as a client-safe *Error.
func jsonError(err error, limit int64) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &maxErr):
		return citygrid.Errorf(citygrid.CodeTooLarge, "request body is larger than %d bytes", limit)
	case errors.As(err, &syntaxErr):
		return citygrid.Errorf(citygrid.CodeInvalid, "malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return citygrid.Errorf(citygrid.CodeInvalid, "the body is a JSON %s, which is not what this endpoint takes", typeErr.Value)
		}
		return citygrid.Errorf(citygrid.CodeInvalid, "%s: expected %s, got JSON %s", typeErr.Field, jsonKind(typeErr.Type), typeErr.Value)
	case errors.Is(err, io.EOF):
		return citygrid.Errorf(citygrid.CodeInvalid, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return citygrid.Errorf(citygrid.CodeInvalid, "malformed JSON: unexpected end of body")
	case errors.As(err, new(*citygrid.Error)):
		return err // already a client error (e.g. trailing data)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for unknown fields.
		return citygrid.Errorf(citygrid.CodeInvalid, "unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return citygrid.Errorf(citygrid.CodeInvalid, "malformed JSON: %v", err)
}

// errMessage is a helper for wrapping a leaf error into a client-safe message.
func errMessage(prefix string, err error) error {
	return citygrid.Errorf(citygrid.CodeInvalid, "%s: %v", prefix, err)
}

// jsonKind names, in JSON terms, what a Go type decodes from.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}
