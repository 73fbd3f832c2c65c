package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"citygrid"
	"citygrid/access"
	"citygrid/cases"
	"citygrid/open311"
)

// open311Prefix is where the Open311 GeoReport v2 façade lives (issue 15).
const open311Prefix = "/open311/v2"

// open311Route is one route of the façade, below open311Prefix.
type open311Route struct {
	method, pattern string
	handle          func(http.ResponseWriter, *http.Request, open311.Format) error
	summary         string // for the OpenAPI document
}

// open311Routes lists every route of the Open311 façade: the one place
// that names them (routeRules gives each its rule; the OpenAPI document
// can describe them from here). Every resource answers in .xml and .json.
func (s *Server) open311Routes() []open311Route {
	return []open311Route{
		{http.MethodGet, "/discovery.{format}", s.handleOpen311Discovery, "service discovery"},
		{http.MethodGet, "/services.{format}", s.handleOpen311Services, "the services: every leaf category not marked open311: false"},
		{http.MethodGet, "/services/{service_code}.{format}", s.handleOpen311Definition, "a service's definition: its attributes"},
		{http.MethodPost, "/requests.{format}", s.handleOpen311Submit, "submit a service request (form-encoded, api_key an integration key)"},
		{http.MethodGet, "/requests.{format}", s.handleOpen311Requests, "service requests: the spec's filters and the extensions"},
		{http.MethodGet, "/requests/{id}.{format}", s.handleOpen311Request, "one service request"},
		{http.MethodGet, "/servicerequestupdates.{format}", s.handleOpen311Updates, "FixMyStreet-style service request updates by date range"},
	}
}

func (s *Server) registerOpen311Routes(r chi.Router) {
	for _, rt := range s.open311Routes() {
		r.Method(rt.method, rt.pattern, s.handle311(rt.handle))
	}
	r.NotFound(s.handle311(func(w http.ResponseWriter, r *http.Request, _ open311.Format) error {
		return citygrid.Errorf(citygrid.CodeNotFound, "no such Open311 resource: %s (resources end in .xml or .json)", truncate(r.URL.Path, 100))
	}))
	r.MethodNotAllowed(s.handle311(func(w http.ResponseWriter, req *http.Request, _ open311.Format) error {
		allowed := allowedMethods(r, chi.RouteContext(req.Context()).RoutePath)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return citygrid.Errorf(citygrid.CodeMethod, "method %s not allowed on %s (allowed: %s)", req.Method, req.URL.Path, strings.Join(allowed, ", "))
	}))
}

// open311Status is the HTTP status of an error through the façade: the
// spec knows 400, 403 and 404, so every other client error is a 400 whose
// body code says more (422, 409, 405, 413, …); failures of the service
// keep their 5xx.
func open311Status(c citygrid.Code) int {
	switch c {
	case citygrid.CodeNotFound:
		return http.StatusNotFound
	case citygrid.CodeForbidden, citygrid.CodeUnauthenticated:
		return http.StatusForbidden
	case citygrid.CodeUnavailable, citygrid.CodeInternal:
		return statusOf(c)
	}
	return http.StatusBadRequest
}

// handle311 adapts an Open311 handler: the format comes from the path's
// extension (an unknown one is a 400 in XML, the format every client
// reads), and every error is the spec's error list in that format, never
// problem+json or HTML.
func (s *Server) handle311(h func(http.ResponseWriter, *http.Request, open311.Format) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ext := chi.URLParam(r, "format")
		f, ok := open311.ParseFormat(ext)
		if !ok && ext == "" {
			ext = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			if i := strings.LastIndex(ext, "."); i >= 0 {
				f, _ = open311.ParseFormat(ext[i+1:])
			}
		}
		var err error
		if !ok && chi.URLParam(r, "format") != "" {
			err = citygrid.Errorf(citygrid.CodeInvalid, "format %q: the resource ends in .xml or .json", truncate(ext, 40))
		} else {
			err = h(w, r, f)
		}
		if err == nil || (errors.Is(err, context.Canceled) && r.Context().Err() != nil) {
			return
		}
		var denied *access.Denied
		if errors.As(err, &denied) {
			s.refuse(r, access.Entry{Action: "authz_fail", ObjectType: denied.ObjectType, ObjectID: denied.ObjectID,
				HTTPStatus: open311Status(denied.Err.Code), Detail: denied.Reason})
		}
		var e *citygrid.Error
		switch {
		case errors.As(err, &e):
		case errors.Is(err, context.DeadlineExceeded):
			e = citygrid.Errorf(citygrid.CodeUnavailable, "the request took too long")
		default:
			s.logger.ErrorContext(r.Context(), "open311 request failed", "err", err, "req_id", middleware.GetReqID(r.Context()))
			e = citygrid.Errorf(citygrid.CodeInternal, "internal error")
		}
		msg := e.Message
		if field, ok := e.Details["field"].(string); ok && field != "" && !strings.HasPrefix(msg, field) {
			msg = field + ": " + msg
		}
		writeOpen311(w, f, open311Status(e.Code), open311.Errors{{Code: statusOf(e.Code), Description: msg}})
	}
}

// writeOpen311 writes a document in f.
func writeOpen311(w http.ResponseWriter, f open311.Format, status int, doc any) {
	b, err := open311.Marshal(f, doc)
	if err != nil {
		status, f = http.StatusInternalServerError, open311.XML
		b, _ = open311.Marshal(f, open311.Errors{{Code: status, Description: "internal error"}})
	}
	w.Header().Set("Content-Type", f.ContentType())
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// open311Reader is who reads requests through the façade: a principal, or
// an anonymous client of the public categories (-open311-public-read).
type open311Reader struct {
	p *access.Principal // nil: anonymous
}

// open311Caller authenticates a request to an Open311 route by the rule
// table's rule: the api_key form field (POST), else the request's Bearer
// key or session; without one, anonymous where -open311-public-read
// allows it. Refusals are 403s (the spec's code for a missing or invalid
// key) and go to the audit trail.
func (s *Server) open311Caller(r *http.Request, apiKey string) (*http.Request, open311Reader, error) {
	rl, pattern, _, known := s.ruleFor(r)
	if !known || !rl.open311 {
		return r, open311Reader{}, citygrid.Errorf(citygrid.CodeForbidden, "%s %s has no access rule", r.Method, pattern)
	}
	refused := func(status int, reason, msg string) error {
		s.refuse(r, access.Entry{Action: "authn_fail", ObjectType: "route", ObjectID: r.Method + " " + r.URL.Path, HTTPStatus: status, Detail: reason})
		return citygrid.Errorf(citygrid.CodeForbidden, "%s", msg)
	}
	var (
		p   *access.Principal
		err error
	)
	if r.Method == http.MethodPost {
		if apiKey == "" {
			return r, open311Reader{}, refused(http.StatusForbidden, "no api_key", "api_key is missing: send an integration key as the api_key form field")
		}
		p, err = s.authn.Authenticate(r.Context(), apiKey)
	} else {
		q := r.URL.Query()
		for _, name := range queryCredentials {
			if q.Has(name) {
				return r, open311Reader{}, refused(http.StatusForbidden, "credential in the URL", "a credential in the URL is refused: send the key as Authorization: Bearer")
			}
		}
		if r.Header.Get("Authorization") == "" && !hasSessionCookie(r) {
			if s.cfg.Open311PublicRead {
				return r, open311Reader{}, nil
			}
			return r, open311Reader{}, refused(http.StatusForbidden, "no credential", "reading service requests needs a key: send it as Authorization: Bearer")
		}
		p, _, err = s.principalOf(r, pattern)
	}
	if err != nil && !errors.Is(err, access.ErrUnauthenticated) {
		s.logger.ErrorContext(r.Context(), "authenticating an Open311 request", "err", err)
		return r, open311Reader{}, citygrid.Errorf(citygrid.CodeUnavailable, "keys cannot be checked just now; try again")
	}
	if err != nil {
		what := "the key"
		if r.Method == http.MethodPost {
			what = "api_key"
		}
		return r, open311Reader{}, refused(http.StatusForbidden, err.Error(), what+" is not a valid key (unknown, expired or revoked)")
	}
	r = r.WithContext(access.WithPrincipal(r.Context(), p))
	if !p.Role.Allows(rl.perm) {
		s.refuse(r, access.Entry{Action: "authz_fail", ObjectType: "route", ObjectID: r.Method + " " + r.URL.Path, HTTPStatus: http.StatusForbidden, Detail: "needs " + string(rl.perm)})
		return r, open311Reader{}, citygrid.Errorf(citygrid.CodeForbidden, "a %s key may not %s %s (needs %s)", p.Role, r.Method, r.URL.Path, rl.perm)
	}
	return r, open311Reader{p: p}, nil
}

// hasSessionCookie reports whether the request carries a session cookie.
func hasSessionCookie(r *http.Request) bool {
	_, err := r.Cookie(SessionCookie)
	return err == nil
}

// open311Context is what rendering requests needs: the categories and the
// district's time zone.
func (s *Server) open311Context(r *http.Request) (*cases.Categories, *time.Location, error) {
	cats, err := s.cases.Categories(r.Context())
	if err != nil {
		return nil, nil, err
	}
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return nil, nil, err
	}
	return cats, cal.Location(), nil
}

func (s *Server) handleOpen311Discovery(w http.ResponseWriter, r *http.Request, f open311.Format) error {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	formats := make([]string, len(open311.Formats))
	for i, ff := range open311.Formats {
		formats[i] = ff.MediaType()
	}
	d := open311.Discovery{
		Changeset:  open311Changeset,
		Contact:    "the district's operator of citygrid",
		KeyService: "an api_key is an integration key, issued by the district's operator (citygrid keys create -role integration -source …)",
		Endpoints: []open311.Endpoint{{Specification: open311.Specification, URL: scheme + "://" + r.Host + open311Prefix,
			Changeset: open311Changeset, Type: "production", Formats: formats}},
	}
	writeOpen311(w, f, http.StatusOK, d)
	return nil
}

// open311Changeset is when the façade last changed what it offers.
const open311Changeset = "2026-11-28T00:00:00Z"

func (s *Server) handleOpen311Services(w http.ResponseWriter, r *http.Request, f open311.Format) error {
	cats, err := s.cases.Categories(r.Context())
	if err != nil {
		return err
	}
	writeOpen311(w, f, http.StatusOK, open311.NewServices(cats, false))
	return nil
}

func (s *Server) handleOpen311Definition(w http.ResponseWriter, r *http.Request, f open311.Format) error {
	cats, err := s.cases.Categories(r.Context())
	if err != nil {
		return err
	}
	c, err := open311.FindService(cats, chi.URLParam(r, "service_code"))
	if err != nil {
		return err
	}
	writeOpen311(w, f, http.StatusOK, open311.NewDefinition(c))
	return nil
}
