package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/go-chi/chi/v5/middleware"

	"citygrid"
)

// statusOf maps each error code to exactly one HTTP status.
func statusOf(c citygrid.Code) int {
	switch c {
	case citygrid.CodeInvalid:
		return http.StatusBadRequest
	case citygrid.CodeUnprocessable:
		return http.StatusUnprocessableEntity
	case citygrid.CodeNotFound:
		return http.StatusNotFound
	case citygrid.CodeMethod:
		return http.StatusMethodNotAllowed
	case citygrid.CodeConflict:
		return http.StatusConflict
	case citygrid.CodePrecondition:
		return http.StatusPreconditionFailed
	case citygrid.CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case citygrid.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

var statusTitles = map[citygrid.Code]string{
	citygrid.CodeInvalid:       "Invalid request",
	citygrid.CodeUnprocessable: "Unprocessable request",
	citygrid.CodeNotFound:      "Not found",
	citygrid.CodeMethod:        "Method not allowed",
	citygrid.CodeConflict:      "Conflict",
	citygrid.CodePrecondition:  "Precondition failed",
	citygrid.CodeTooLarge:      "Request too large",
	citygrid.CodeUnavailable:   "Service unavailable",
	citygrid.CodeInternal:      "Internal error",
}

// handle adapts an error-returning handler: the one place errors become
// responses. Internal details go to the log with the request ID, never to
// the client; a client that went away gets nothing.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil || (errors.Is(err, context.Canceled) && r.Context().Err() != nil) {
			return
		}
		var e *citygrid.Error
		switch {
		case errors.As(err, &e):
		case errors.Is(err, context.DeadlineExceeded):
			e = citygrid.Errorf(citygrid.CodeUnavailable, "the request took too long")
		default:
			s.logger.ErrorContext(r.Context(), "request failed", "err", err, "req_id", middleware.GetReqID(r.Context()))
			e = citygrid.Errorf(citygrid.CodeInternal, "internal error")
		}
		writeProblem(w, r, e)
	}
}

// writeProblem writes e as an RFC 9457 problem+json document; e.Details
// become extension members (for example "rejected" for bulk input).
func writeProblem(w http.ResponseWriter, r *http.Request, e *citygrid.Error) {
	status := statusOf(e.Code)
	body := map[string]any{
		"type":   "urn:citygrid:problem:" + string(e.Code),
		"title":  statusTitles[e.Code],
		"status": status,
		"detail": e.Message,
		"code":   e.Code,
	}
	if id := middleware.GetReqID(r.Context()); id != "" {
		body["request_id"] = id
	}
	for k, v := range e.Details {
		if _, taken := body[k]; !taken {
			body[k] = v
		}
	}
	writeJSONStatus(w, "application/problem+json", status, body)
}

func invalid(format string, a ...any) error {
	return citygrid.Errorf(citygrid.CodeInvalid, format, a...)
}
