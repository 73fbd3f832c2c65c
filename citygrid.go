// Package citygrid holds the error type shared by every layer of the service.
//
// Only *Error values reach API clients; anything else is logged and reported
// as an internal error.
package citygrid

import (
	"errors"
	"fmt"
)

// Code classifies an Error; httpapi maps each Code to exactly one HTTP status.
type Code string

const (
	CodeInvalid       Code = "invalid"       // the caller can fix the request (400)
	CodeUnprocessable Code = "unprocessable" // well-formed but not acceptable in this state (422)
	CodeNotFound      Code = "not_found"     // 404
	// CodeUnauthenticated is a missing or invalid credential (401).
	CodeUnauthenticated Code = "unauthenticated"
	// CodeForbidden is an action the caller's role may not take (403).
	CodeForbidden    Code = "forbidden"
	CodeMethod       Code = "method_not_allowed" // 405
	CodeTimeout      Code = "request_timeout"    // the client stopped sending its body (408)
	CodeConflict     Code = "conflict"           // e.g. a duplicate key (409)
	CodePrecondition Code = "precondition"       // a stale If-Match version (412)
	CodeTooLarge     Code = "too_large"          // request body over the limit (413)
	// CodeUnsupportedMedia is a request body in a coding the server does
	// not read (415).
	CodeUnsupportedMedia Code = "unsupported_media_type"
	CodeUnavailable      Code = "unavailable" // not ready yet, or a deadline passed (503)
	CodeInternal         Code = "internal"    // what clients see for any non-*Error (500)
	// CodeTooManyRequests is a client over a rate or concurrency limit
	// (429); the reply says when to retry (Retry-After).
	CodeTooManyRequests Code = "too_many_requests"
)

// Error is a failure whose Message is safe to show to an API client.
type Error struct {
	Code    Code
	Message string
	// Details carries structured, client-safe context such as the rejected
	// features of an import; it is rendered as extra members of the problem.
	Details map[string]any
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with a formatted, client-safe message.
func Errorf(c Code, format string, a ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, a...)}
}

// ErrorCode returns the Code of the first *Error in err's chain, or
// CodeInternal when there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}
