package httpapi

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"citygrid"
	"citygrid/access"
)

// problems gives each error code exactly one HTTP status and a title.
var problems = map[citygrid.Code]struct {
	status int
	title  string
}{
	citygrid.CodeInvalid:          {http.StatusBadRequest, "Invalid request"},
	citygrid.CodeUnprocessable:    {http.StatusUnprocessableEntity, "Unprocessable request"},
	citygrid.CodeNotFound:         {http.StatusNotFound, "Not found"},
	citygrid.CodeUnauthenticated:  {http.StatusUnauthorized, "Unauthorized"},
	citygrid.CodeForbidden:        {http.StatusForbidden, "Forbidden"},
	citygrid.CodeMethod:           {http.StatusMethodNotAllowed, "Method not allowed"},
	citygrid.CodeTimeout:          {http.StatusRequestTimeout, "Request timeout"},
	citygrid.CodeConflict:         {http.StatusConflict, "Conflict"},
	citygrid.CodePrecondition:     {http.StatusPreconditionFailed, "Precondition failed"},
	citygrid.CodeTooLarge:         {http.StatusRequestEntityTooLarge, "Request too large"},
	citygrid.CodeUnsupportedMedia: {http.StatusUnsupportedMediaType, "Unsupported media type"},
	citygrid.CodeTooManyRequests:  {http.StatusTooManyRequests, "Too many requests"},
	citygrid.CodeUnavailable:      {http.StatusServiceUnavailable, "Service unavailable"},
	citygrid.CodeInternal:         {http.StatusInternalServerError, "Internal error"},
}

// statusOf is the HTTP status of an error code (500 for one not listed).
func statusOf(c citygrid.Code) int {
	if p, ok := problems[c]; ok {
		return p.status
	}
	return http.StatusInternalServerError
}

// handle adapts an error-returning handler: the one place errors become
// responses. Internal details go to the log with the request ID, never to
// the client; a client that went away gets nothing.
func (s *Server) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := s.runAgain(w, r, h)
		if err == nil || (errors.Is(err, context.Canceled) && r.Context().Err() != nil) {
			return
		}
		var denied *access.Denied
		if errors.As(err, &denied) {
			s.refuse(r, access.Entry{Action: "authz_fail", ObjectType: denied.ObjectType, ObjectID: denied.ObjectID,
				HTTPStatus: statusOf(denied.Err.Code), Detail: denied.Reason})
		}
		var e *citygrid.Error
		switch {
		case errors.As(err, &e):
		case errors.Is(err, context.DeadlineExceeded):
			e = citygrid.Errorf(citygrid.CodeUnavailable, "the request took too long")
		case s.transient != nil && s.transient(err):
			s.logger.WarnContext(r.Context(), "database unavailable", "err", err, "req_id", middleware.GetReqID(r.Context()))
			w.Header().Set("Retry-After", "1")
			e = citygrid.Errorf(citygrid.CodeUnavailable, "the database is unavailable; try again shortly")
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
		"title":  problems[e.Code].title,
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

// methodNotAllowed answers a 405 whose Allow header (RFC 9110) lists the
// methods routes serves at the request's path: chi works them out, but
// keeps them to itself once a handler is set, so routes is asked again. The
// root router is asked about the whole path, which is right for every path
// of the subrouters that inherit its handler but their mount points: there
// chi's Match reports every method (go-chi/chi#794). A subrouter a 405 can
// reach at its mount point therefore gets a handler of its own, asked about
// the path below that point.
func (s *Server) methodNotAllowed(routes chi.Routes) http.HandlerFunc {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		rctx := chi.RouteContext(r.Context())
		path := r.URL.Path
		if r.URL.RawPath != "" {
			path = r.URL.RawPath // what chi routes on
		}
		if rctx != nil && routes != rctx.Routes {
			path = rctx.RoutePath // below the subrouter's mount point
		}
		allowed := allowedMethods(routes, path)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return citygrid.Errorf(citygrid.CodeMethod, "method %s not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allowed, ", "))
	})
}

// allowedMethods lists the methods routes serve at path; HEAD goes with
// GET (middleware.GetHead).
func allowedMethods(routes chi.Routes, path string) []string {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if routes.Match(chi.NewRouteContext(), m, path) || m == http.MethodHead && slices.Contains(allowed, http.MethodGet) {
			allowed = append(allowed, m)
		}
	}
	return slices.Compact(allowed)
}

func invalid(format string, a ...any) error {
	return citygrid.Errorf(citygrid.CodeInvalid, format, a...)
}
