package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"citygrid"
	"citygrid/access"
)

// Authenticator turns a bearer token into a principal (access.Authenticator).
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*access.Principal, error)
}

// Auditor records refused attempts (postgres.AuditStore).
type Auditor interface {
	Record(ctx context.Context, e access.Entry) error
}

// rule is what a route needs: nothing (public) or a permission.
type rule struct {
	public bool
	perm   access.Permission
}

var public = rule{public: true}

func needs(p access.Permission) rule { return rule{perm: p} }

// routeRules is the rule table: every route, by method and pattern (as
// chi.Walk reports them; "*" for a route serving every method). A route
// missing here is refused to everyone, and TestEveryRouteHasARule fails.
var routeRules = map[string]rule{
	"GET /healthz":                      public,
	"GET /readyz":                       public,
	"* /":                               public, // the battle map: no case data in the page
	"* /static/*":                       public,
	"* /fonts/*":                        public,
	"GET /favicon.ico":                  public,
	"* /metrics":                        needs(access.PermMetricsRead),
	"GET /tiles":                        needs(access.PermMapRead),
	"GET /tiles/{file}":                 needs(access.PermMapRead),
	"GET /tiles/{layer}/{z}/{x}/{file}": needs(access.PermMapRead),
	"GET /v1/me":                        needs(access.PermSelf),
	"GET /v1/keys":                      needs(access.PermKeysManage),
	"POST /v1/keys":                     needs(access.PermKeysManage),
	"DELETE /v1/keys/{id}":              needs(access.PermKeysManage),
	"GET /v1/audit":                     needs(access.PermAuditRead),
	"GET /v1/grids":                     needs(access.PermGridsRead),
	"GET /v1/grids/{code}":              needs(access.PermGridsRead),
	"GET /v1/grids/topology":            needs(access.PermGridsWrite),
	"POST /v1/grids/import/":            needs(access.PermGridsWrite),
	"GET /v1/units":                     needs(access.PermGridsRead),
	"POST /v1/units":                    needs(access.PermGridsWrite),
	"GET /v1/locate":                    needs(access.PermGridsRead),
	"POST /v1/locate":                   needs(access.PermGridsRead),
	"GET /v1/statuses":                  needs(access.PermGridsRead),
	"GET /v1/sources":                   needs(access.PermCasesRead),
	"GET /v1/categories":                needs(access.PermGridsRead),
	"PUT /v1/categories":                needs(access.PermCategoriesWrite),
	"GET /v1/categories/{code}":         needs(access.PermGridsRead),
	"PUT /v1/categories/{code}":         needs(access.PermCategoriesWrite),
	"GET /v1/calendar":                  needs(access.PermGridsRead),
	"PUT /v1/calendar":                  needs(access.PermCalendarWrite),
	"GET /v1/cases":                     needs(access.PermCasesRead),
	"POST /v1/cases":                    needs(access.PermCasesCreate),
	"POST /v1/cases/search":             needs(access.PermCasesRead),
	"POST /v1/cases/bulk":               needs(access.PermCasesBulk),
	"GET /v1/cases/{id}":                needs(access.PermCasesRead),
	"PATCH /v1/cases/{id}":              needs(access.PermCasesUpdate),
	"GET /v1/cases/{id}/history":        needs(access.PermCasesRead),
	"GET /v1/stats":                     needs(access.PermStatsRead),
	"GET /v1/hotspots":                  needs(access.PermHotspotsRead),
	"GET /v1/hotspots/emerging":         needs(access.PermHotspotsRead),
	"GET /v1/events":                    needs(access.PermMapRead),
	"HEAD /v1/events":                   needs(access.PermMapRead),
	"POST /v1/events/ticket":            needs(access.PermMapRead),
}

// ruleFor finds the rule of the route r goes to. A path no route serves
// needs a credential like any other (an unknown endpoint tells an
// anonymous caller nothing); with one, the router answers 404 or 405. A
// route the router serves but the table lacks is refused to everyone
// (matched, not known): deny by default.
// The route's pattern is returned too, for the request log of a refusal
// (the router never sees a refused request).
func (s *Server) ruleFor(r *http.Request) (rl rule, pattern string, matched, known bool) {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet // middleware.GetHead serves HEAD as GET
		if rl, pattern, matched, known := s.matchRule(http.MethodHead, r); matched {
			return rl, pattern, matched, known
		}
	}
	return s.matchRule(method, r)
}

func (s *Server) matchRule(method string, r *http.Request) (rl rule, pattern string, matched, known bool) {
	path := r.URL.Path
	if r.URL.RawPath != "" {
		path = r.URL.RawPath
	}
	rctx := chi.NewRouteContext()
	if !s.router.Match(rctx, method, path) {
		return rule{}, "", false, false
	}
	pattern = rctx.RoutePattern()
	rl, known = lookupRule(method, pattern)
	return rl, pattern, true, known
}

// routeServes reports whether some method of the route has a rule: then a
// request in another method is the router's to answer (405, with Allow).
// chi matches a mounted subrouter's path in every method (go-chi/chi#794).
func routeServes(pattern string) bool {
	for _, p := range []string{pattern, pattern + "/", strings.TrimSuffix(pattern, "/")} {
		for key := range routeRules {
			if _, route, _ := strings.Cut(key, " "); route == p {
				return true
			}
		}
	}
	return false
}

// lookupRule finds the rule of a route by method and pattern. chi.Walk
// names a mounted subrouter's root route with a trailing slash
// (/v1/grids/import/), a matched request without: both name one rule.
func lookupRule(method, pattern string) (rule, bool) {
	for _, p := range []string{pattern, pattern + "/", strings.TrimSuffix(pattern, "/")} {
		for _, m := range []string{method, "*"} {
			if rl, ok := routeRules[m+" "+p]; ok {
				return rl, true
			}
		}
	}
	return rule{}, false
}

// eventsRoute is the one route a stream ticket opens.
const eventsRoute = "/v1/events"

// maxAuthorizationBytes caps the Authorization header: a key is 46 bytes,
// and a huge header is refused before any work.
const maxAuthorizationBytes = 1024

// queryCredentials are query parameters that carry credentials elsewhere:
// a key in a URL ends up in logs and histories, so citygrid refuses it.
var queryCredentials = []string{"access_token", "api_key", "key", "token"}

// authenticate puts the request's principal in its context, or answers 401
// (missing or invalid credential) or 403 (a route the role may not use),
// writing refusals to the audit trail.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := access.WithRequest(r.Context(), access.Request{ID: middleware.GetReqID(r.Context()), Addr: clientAddr(r)})
		r = r.WithContext(ctx)
		rl, pattern, matched, known := s.ruleFor(r)
		if known && rl.public {
			next.ServeHTTP(w, r)
			return
		}
		if rctx := chi.RouteContext(r.Context()); rctx != nil && pattern != "" {
			// Logged and counted under its route even when refused here;
			// the router, when it runs, sets the same pattern again.
			defer func() {
				if rctx.RoutePattern() == "" {
					rctx.RoutePatterns = []string{pattern}
				}
			}()
		}
		p, err := s.principalOf(r, pattern)
		if err != nil && !errors.Is(err, access.ErrUnauthenticated) {
			// The key could not be looked up (the database is away): the
			// caller's key is not at fault.
			s.logger.ErrorContext(r.Context(), "authenticating a request", "err", err)
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeUnavailable, "keys cannot be checked just now; try again"))
			return
		}
		if err != nil {
			s.refuse(r, access.Entry{Action: "authn_fail", ObjectType: "route", ObjectID: r.Method + " " + r.URL.Path, HTTPStatus: http.StatusUnauthorized, Detail: err.Error()})
			w.Header().Set("WWW-Authenticate", `Bearer realm="citygrid"`)
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeUnauthenticated, "%s", access.ErrUnauthenticated.Error()))
			return
		}
		r = r.WithContext(access.WithPrincipal(r.Context(), p))
		if matched && !known && !routeServes(pattern) {
			s.logger.ErrorContext(r.Context(), "route without a rule refused", "method", r.Method, "route", pattern)
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeForbidden, "%s %s has no access rule", r.Method, pattern))
			return
		}
		if known && !p.Role.Allows(rl.perm) {
			s.refuse(r, access.Entry{Action: "authz_fail", ObjectType: "route", ObjectID: r.Method + " " + r.URL.Path, HTTPStatus: http.StatusForbidden, Detail: "needs " + string(rl.perm)})
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeForbidden, "a %s key may not %s %s (needs %s)", p.Role, r.Method, r.URL.Path, rl.perm))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// principalOf authenticates the request's bearer token (or, on the event
// stream only, its single-use ticket).
func (s *Server) principalOf(r *http.Request, pattern string) (*access.Principal, error) {
	q := r.URL.Query()
	for _, name := range queryCredentials {
		if q.Has(name) {
			return nil, unauthenticated("a credential in the URL is refused: send it as Authorization: Bearer")
		}
	}
	h := r.Header.Get("Authorization")
	if h == "" && q.Has("ticket") && s.tickets != nil && r.Method == http.MethodGet && pattern == eventsRoute {
		return s.tickets.redeem(q.Get("ticket"))
	}
	if h == "" {
		return nil, unauthenticated("no credential")
	}
	if len(h) > maxAuthorizationBytes {
		return nil, unauthenticated("authorization header too large")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, unauthenticated("not a bearer credential")
	}
	return s.authn.Authenticate(r.Context(), strings.TrimSpace(token))
}

// unauthenticated is a credential refused for reason.
func unauthenticated(reason string) error {
	return errors.Join(access.ErrUnauthenticated, errors.New(reason))
}

// refuse writes a refused attempt to the audit trail; a failure to write
// it is logged, never shown to the caller.
func (s *Server) refuse(r *http.Request, e access.Entry) {
	e.Deny = true
	if s.auditor == nil {
		return
	}
	if err := s.auditor.Record(context.WithoutCancel(r.Context()), e); err != nil {
		s.logger.WarnContext(r.Context(), "audit of a refusal", "err", err)
	}
}

// clientAddr is the client's address without the port (RealIP has already
// applied X-Forwarded-For).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// principal returns the request's principal; authenticate guarantees one
// on every non-public route.
func principal(r *http.Request) *access.Principal { return access.PrincipalFrom(r.Context()) }

// scopeOf returns the request's scope under the current grids.
func (s *Server) scopeOf(r *http.Request) *access.Scope {
	return s.scopes.Scope(principal(r), s.index.Locator())
}
