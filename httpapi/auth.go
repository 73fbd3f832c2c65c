package httpapi

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"

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
	// open311: the handler authenticates (an Open311 api_key form field on
	// POST, Bearer on GET, anonymous readers of public categories), so
	// that refusals come as the spec's error list; perm is what it needs.
	open311 bool
}

// open311Needs is the rule of an Open311 route that needs p.
func open311Needs(p access.Permission) rule { return rule{perm: p, open311: true} }

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
	"POST /v1/session":                  public, // signing in: the password is the credential
	"DELETE /v1/session":                needs(access.PermSelf),
	"GET /v1/oidc/login":                public, // signing in at the city's identity provider
	"GET /v1/oidc/callback":             public, // its way back: state, PKCE and the ID token are the credential
	"GET /v1/users":                     needs(access.PermUsersManage),
	"POST /v1/users":                    needs(access.PermUsersManage),
	"PATCH /v1/users/{name}":            needs(access.PermUsersManage),
	// OGC API – Features and the OpenAPI document (issue 16): the landing
	// page, conformance and the API description name no data; the
	// collections need the permission of what they hold.
	"GET /openapi.json":                                     public,
	"GET /ogc":                                              public,
	"GET /ogc/conformance":                                  public,
	"GET /ogc/collections":                                  needs(access.PermGridsRead),
	"GET /ogc/collections/cases":                            needs(access.PermCasesRead),
	"GET /ogc/collections/cases/items":                      needs(access.PermCasesRead),
	"GET /ogc/collections/cases/items/{featureId}":          needs(access.PermCasesRead),
	"GET /ogc/collections/hotspots":                         needs(access.PermHotspotsRead),
	"GET /ogc/collections/hotspots/items":                   needs(access.PermHotspotsRead),
	"GET /ogc/collections/hotspots/items/{featureId}":       needs(access.PermHotspotsRead),
	"GET /ogc/collections/{collectionId}":                   needs(access.PermGridsRead),
	"GET /ogc/collections/{collectionId}/items":             needs(access.PermGridsRead),
	"GET /ogc/collections/{collectionId}/items/{featureId}": needs(access.PermGridsRead),
	// Campaigns and bulletins (issue 18).
	"GET /v1/campaigns":                                      needs(access.PermCampaignsRead),
	"POST /v1/campaigns":                                     needs(access.PermCampaignsWrite),
	"GET /v1/campaigns/{id}":                                 needs(access.PermCampaignsRead),
	"GET /v1/campaigns/{id}/stats":                           needs(access.PermCampaignsRead),
	"GET /v1/campaigns/{id}/sites":                           needs(access.PermCampaignsRead),
	"POST /v1/campaigns/{id}/sites":                          needs(access.PermCampaignsWrite),
	"POST /v1/campaigns/{id}/sites/{ref}/inspection":         needs(access.PermCampaignsInspect),
	"GET /v1/bulletins":                                      needs(access.PermBulletinsRead),
	"GET /v1/bulletins/{kind}/{scope}/{period}":              needs(access.PermBulletinsRead),
	"POST /v1/bulletins/{kind}/{scope}/{period}":             needs(access.PermBulletinsWrite),
	"POST /v1/bulletins/{kind}/{scope}/{period}/corrections": needs(access.PermBulletinsWrite),
	// Open311 GeoReport v2 (issue 15; open311Routes lists them): discovery
	// and the services are public; the requests authenticate in their
	// handlers.
	"GET /open311/v2/discovery.{format}":               public,
	"GET /open311/v2/services.{format}":                public,
	"GET /open311/v2/services/{service_code}.{format}": public,
	"POST /open311/v2/requests.{format}":               open311Needs(access.PermCasesCreate),
	"GET /open311/v2/requests.{format}":                open311Needs(access.PermCasesRead),
	"GET /open311/v2/requests/{id}.{format}":           open311Needs(access.PermCasesRead),
	"GET /open311/v2/servicerequestupdates.{format}":   open311Needs(access.PermCasesRead),

	// Projects and disputed cases (issue 17).
	"GET /v1/projects":                   needs(access.PermProjectsRead),
	"POST /v1/projects":                  needs(access.PermProjectsWrite),
	"GET /v1/projects/{id}":              needs(access.PermProjectsRead),
	"PATCH /v1/projects/{id}":            needs(access.PermProjectsWrite),
	"GET /v1/projects/{id}/history":      needs(access.PermProjectsRead),
	"GET /v1/projects/{id}/progress":     needs(access.PermProjectsRead),
	"GET /v1/projects/{id}/cases":        needs(access.PermProjectsRead),
	"GET /tiles/projects/{z}/{x}/{file}": needs(access.PermProjectsRead),
	"GET /v1/disputes":                   needs(access.PermDisputesManage),
	"POST /v1/disputes/{id}/settle":      needs(access.PermDisputesManage),
	"POST /v1/disputes/{id}/escalate":    needs(access.PermDisputesManage),

	// Grid versions (issue 19): drafting, reviewing and activating is the
	// grid administrators' (a preview shows every unit's open cases).
	"POST /v1/grid-versions":               needs(access.PermGridsWrite),
	"GET /v1/grid-versions":                needs(access.PermGridsWrite),
	"GET /v1/grid-versions/{id}":           needs(access.PermGridsWrite),
	"GET /v1/grid-versions/{id}/preview":   needs(access.PermGridsWrite),
	"GET /v1/grid-versions/{id}/grids":     needs(access.PermGridsWrite),
	"POST /v1/grid-versions/{id}/activate": needs(access.PermGridsWrite),
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
		if strings.HasPrefix(r.URL.Path, open311Prefix+"/") && (!matched || known && rl.open311) {
			// Open311 (issue 15): its handlers authenticate, and its router
			// answers unknown paths, in the spec's error format.
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
		p, sess, err := s.principalOf(r, pattern)
		for deadline := time.Now().Add(retryWindow); err != nil && s.transient != nil && s.transient(err) && time.Now().Before(deadline); {
			// The database went away under the lookup (a restart): ask
			// again once it is back, as runAgain does for handlers.
			select {
			case <-r.Context().Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			p, sess, err = s.principalOf(r, pattern)
		}
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
			msg := access.ErrUnauthenticated.Error()
			if errors.Is(err, access.ErrSignedOut) {
				msg = access.ErrSignedOut.Error()
				http.SetCookie(w, s.sessionCookie(r, "", -1)) // a dead session's cookie is of no more use
			}
			e := citygrid.Errorf(citygrid.CodeUnauthenticated, "%s", msg)
			e.Details = map[string]any{"sign_in": s.signInMethods()}
			writeProblem(w, r, e)
			return
		}
		ctx = access.WithPrincipal(r.Context(), p)
		if sess != nil {
			ctx = context.WithValue(ctx, sessionKey{}, sess)
		}
		r = r.WithContext(ctx)
		if sess != nil && !safeMethod(r.Method) && !sess.CheckCSRF(r.Header.Get(CSRFHeader)) {
			// A browser sends the cookie with any request, a forged
			// cross-site one too; only the page knows the token.
			s.refuse(r, access.Entry{Action: "csrf_fail", ObjectType: "route", ObjectID: r.Method + " " + r.URL.Path, HTTPStatus: http.StatusForbidden, Detail: "missing or wrong " + CSRFHeader})
			writeProblem(w, r, citygrid.Errorf(citygrid.CodeForbidden, "a request signed in by the session cookie must send the session's CSRF token in the %s header (from POST /v1/session or GET /v1/me)", CSRFHeader))
			return
		}
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

// principalOf authenticates the request's bearer token, or (on the event
// stream only) its single-use ticket, or its session cookie; a request
// with an Authorization header is judged by it alone. The session is
// returned when the cookie was the credential.
func (s *Server) principalOf(r *http.Request, pattern string) (*access.Principal, *access.Session, error) {
	q := r.URL.Query()
	for _, name := range queryCredentials {
		if q.Has(name) {
			return nil, nil, unauthenticated("a credential in the URL is refused: send it as Authorization: Bearer")
		}
	}
	h := r.Header.Get("Authorization")
	if h == "" && q.Has("ticket") && s.tickets != nil && r.Method == http.MethodGet && pattern == eventsRoute {
		p, err := s.tickets.redeem(q.Get("ticket"))
		return p, nil, err
	}
	if h == "" {
		if p, sess, ok, err := s.cookiePrincipal(r.Context(), r); ok {
			return p, sess, err
		}
		return nil, nil, unauthenticated("no credential")
	}
	if len(h) > maxAuthorizationBytes {
		return nil, nil, unauthenticated("authorization header too large")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, nil, unauthenticated("not a bearer credential")
	}
	p, err := s.authn.Authenticate(r.Context(), strings.TrimSpace(token))
	return p, nil, err
}

// signInMethods tells a refused caller how it may sign in (the same for
// every refusal): a key always, a password when people are kept, the
// city's identity provider at /v1/oidc/login when one is configured.
func (s *Server) signInMethods() []string {
	methods := []string{"key"}
	if s.users != nil {
		methods = append(methods, "password")
	}
	if s.oidc != nil {
		methods = append(methods, "oidc")
	}
	return methods
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
