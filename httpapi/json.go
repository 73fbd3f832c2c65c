package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"citygrid"
	"citygrid/cases"
	"citygrid/internal/strictjson"
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
// limit bytes. Unknown fields, keys given twice, trailing data, wrong types
// and oversize bodies are client errors that name what is wrong.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.Contains(ct, "json") {
		return citygrid.Errorf(citygrid.CodeInvalid, "Content-Type %q is not JSON", ct)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return jsonError(err, limit)
	}
	if err := strictjson.Decode(body, v); err != nil {
		return jsonError(err, limit)
	}
	return nil
}

// jsonError classifies an encoding/json error (or one reading the body) as
// a client-safe *Error.
func jsonError(err error, limit int64) error {
	var (
		maxErr    *http.MaxBytesError
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		dupErr    *strictjson.DuplicateKeyError
		fieldErr  *cases.FieldError
		bodyErr   *bodyEncodingError
	)
	switch {
	case errors.As(err, &maxErr):
		return citygrid.Errorf(citygrid.CodeTooLarge, "request body is larger than %d bytes", limit)
	case errors.As(err, &bodyErr):
		return bodyErr.problem()
	case errors.As(err, &syntaxErr):
		return citygrid.Errorf(citygrid.CodeInvalid, "malformed JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case errors.As(err, &dupErr):
		e := citygrid.Errorf(citygrid.CodeInvalid, "%v", dupErr)
		e.Details = map[string]any{"field": dupErr.Field()}
		return e
	case errors.As(err, &fieldErr):
		return fieldError(fieldErr)
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return citygrid.Errorf(citygrid.CodeInvalid, "the body is a JSON %s, which is not what this endpoint takes", typeErr.Value)
		}
		e := citygrid.Errorf(citygrid.CodeInvalid, "%s: %s", typeErr.Field, strictjson.DescribeTypeError(typeErr))
		e.Details = map[string]any{"field": typeErr.Field}
		return e
	case errors.Is(err, strictjson.ErrTrailingData):
		return citygrid.Errorf(citygrid.CodeInvalid, "request body has data after the JSON value")
	case errors.Is(err, io.EOF):
		return citygrid.Errorf(citygrid.CodeInvalid, "request body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return citygrid.Errorf(citygrid.CodeInvalid, "malformed JSON: unexpected end of body")
	case errors.As(err, new(*citygrid.Error)):
		return err // already a client error
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
