package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"citygrid"
	"citygrid/access"
	"citygrid/analysis"
	"citygrid/bulletin"
	"citygrid/campaign"
	"citygrid/cases"
	"citygrid/grid"
	"citygrid/internal/app"
	"citygrid/live"
	"citygrid/position"
	"citygrid/tiles"
	"citygrid/web"
)

// Config holds the HTTP-facing settings.
type Config struct {
	// MaxBodyBytes caps ordinary JSON bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxImportBytes caps grid imports (default 256 MiB).
	MaxImportBytes int64
	// RequestTimeout bounds ordinary requests (default 30 s). Imports and
	// bulk ingests stream and are bounded by the HTTP server's read and
	// write timeouts instead.
	RequestTimeout time.Duration
	// DuplicateRadiusM and DuplicateWindow bound the search for possible
	// duplicates of a new case (default 50 m and 7 days).
	DuplicateRadiusM float64
	DuplicateWindow  time.Duration
	// TileCacheControl is the Cache-Control header of tile responses by
	// layer name; "*" is the default for layers not named (default
	// "no-cache": caches keep tiles but revalidate them by ETag, cheaply,
	// since cases change at any time).
	TileCacheControl map[string]string
	// CORSOrigin is the Access-Control-Allow-Origin of tile responses
	// (default "*": tiles are read-only; "none" sends none).
	CORSOrigin string
	// RateLimit and RateBurst limit each client's expensive reads (case
	// lists, searches and exports; hotspots) together: RateLimit a second
	// on average, RateBurst at once (default 10 and 20; a negative
	// RateLimit: no limit). BulkConcurrency caps each client's bulk
	// ingests in flight (default 2; negative: no cap). Over a limit is a
	// 429 with Retry-After.
	RateLimit       float64
	RateBurst       int
	BulkConcurrency int
	// BulkIdleTimeout cuts a bulk body of which no byte arrives for that
	// long with a 408 (default 30 s; negative: never).
	BulkIdleTimeout time.Duration
	// SessionIdle ends a signed-in session after this long without a
	// request (default 12 h).
	SessionIdle time.Duration
	// OIDC turns on sign-in through an OpenID Connect provider (nil or no
	// Issuer: off, /v1/oidc/* not served). Needs Deps.Users to be an
	// OIDCUserStore.
	OIDC *OIDCConfig
	// Open311PublicRead lets anonymous Open311 clients read the requests of
	// categories marked public (issue 15; off: reads need a credential).
	Open311PublicRead bool
}

func (c *Config) setDefaults() {
	if c.SessionIdle <= 0 {
		c.SessionIdle = 12 * time.Hour
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 1 << 20
	}
	if c.MaxImportBytes == 0 {
		c.MaxImportBytes = 256 << 20
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.DuplicateRadiusM == 0 {
		c.DuplicateRadiusM = 50
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = 7 * 24 * time.Hour
	}
	switch c.CORSOrigin {
	case "":
		c.CORSOrigin = "*"
	case "none":
		c.CORSOrigin = ""
	}
	if c.TileCacheControl == nil {
		c.TileCacheControl = map[string]string{}
	}
	if c.TileCacheControl["*"] == "" {
		c.TileCacheControl["*"] = "no-cache"
	}
	if c.RateLimit == 0 {
		c.RateLimit = 10
	}
	if c.RateBurst <= 0 {
		c.RateBurst = 20
	}
	if c.BulkConcurrency == 0 {
		c.BulkConcurrency = 2
	}
	if c.BulkIdleTimeout == 0 {
		c.BulkIdleTimeout = 30 * time.Second
	}
}

// Server serves the citygrid API.
type Server struct {
	cfg      Config
	grids    grid.Store
	cases    cases.Store
	reads    cases.Store // lists, searches, exports (Deps.Reads)
	stats    cases.StatsStore
	analysis *analysis.Service
	tiles    *tiles.Service
	live     *live.Hub
	now      func() time.Time
	index    *grid.Index
	ready    func(ctx context.Context) error
	logger   *slog.Logger
	metrics  *metrics
	limits   *limiter
	router   chi.Router

	authn   Authenticator
	keys    KeyStore
	audit   AuditStore
	auditor Auditor // audit, or nil
	scopes  access.Resolver
	tickets *tickets

	users    UserStore                    // nil: no users, no sessions
	sessions *access.SessionAuthenticator // over users
	signIns  *signInFailures
	oidc     *oidcSignIn // nil: no OpenID Connect sign-in
	// transient: errors after which a request runs again (Deps.Transient).
	transient func(error) bool

	// Campaigns and bulletins (issue 18).
	campaigns campaign.Store    // nil: no /v1/campaigns
	bulletins *bulletin.Service // nil: no /v1/bulletins

	// Projects and disputed cases (issue 17): nil serves neither.
	projects  ProjectStore
	places    *placeMemo
	shapes    *projectShapes
	positions position.Follower // change feed positions (issue 14); nil: no Citygrid-Position

	// Grid versions (issue 19): nil serves no /v1/grid-versions and no at=.
	versions grid.VersionStore
	asOf     asOfLocators
}

// Deps are what the server works with.
type Deps struct {
	Grids grid.Store
	Cases cases.Store
	// Reads is where lists, searches and exports of cases read (a store
	// over streaming replicas); nil: Cases.
	Reads cases.Store
	// Stats computes summaries; nil disables /v1/stats.
	Stats cases.StatsStore
	Index *grid.Index
	// App is the application layer: hotspot analysis, tiles and the live
	// hub every case change goes through. Nil disables hotspots, tiles and
	// live events.
	App *app.App
	// Now is the clock (default time.Now); tests fix it.
	Now func() time.Time
	// Ready reports whether the database answers; the index is checked too.
	Ready    func(ctx context.Context) error
	Logger   *slog.Logger
	Registry *prometheus.Registry // nil: a fresh registry
	// Keys holds the API keys every non-public route asks for; required
	// unless Authn is given (then /v1/keys is not served).
	Keys KeyStore
	// Authn checks bearer tokens (default: an access.Authenticator over
	// Keys).
	Authn Authenticator
	// Audit is the audit trail; nil records no refusals and serves no
	// /v1/audit.
	Audit AuditStore
	// Users keeps the people who sign in and their sessions; nil serves
	// no /v1/users and /v1/session and accepts no session cookie.
	Users UserStore
	// Transient tells the errors after which a request may run again: the
	// database went away under it (postgres.Unavailable). Nil: never.
	Transient func(error) bool
	// Campaigns keeps campaigns (issue 18); nil serves no /v1/campaigns
	// (it needs Stats too).
	Campaigns campaign.Store
	// Bulletins generates and keeps bulletins (issue 18); nil serves no
	// /v1/bulletins.
	Bulletins *bulletin.Service
	// Projects keeps pain-point projects and dispute settlements (issue
	// 17); nil serves no /v1/projects, /v1/disputes or projects tiles.
	Projects ProjectStore
	// Positions follows the change feed (issue 14): every reply names a
	// position and a request naming one waits for it (default: App's live
	// hub; nil with no App: no Citygrid-Position).
	Positions position.Follower
	// Versions keeps grid versions (issue 19); nil serves no
	// /v1/grid-versions and refuses at=.
	Versions grid.VersionStore
}

// New builds the server and its routes.
func New(cfg Config, d Deps) *Server {
	cfg.setDefaults()
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
		d.Registry.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Keys == nil && d.Authn == nil {
		panic("httpapi: Deps.Keys is required: every route but the public ones needs a key")
	}
	if d.Authn == nil {
		d.Authn = access.NewAuthenticator(d.Keys, d.Now)
	}
	if d.Reads == nil {
		d.Reads = d.Cases
	}
	s := &Server{cfg: cfg, grids: d.Grids, cases: d.Cases, reads: d.Reads, stats: d.Stats, now: d.Now, index: d.Index, ready: d.Ready, logger: d.Logger,
		authn: d.Authn, keys: d.Keys, audit: d.Audit, tickets: newTickets(), transient: d.Transient, versions: d.Versions}
	if d.Audit != nil {
		s.auditor = d.Audit
	}
	s.campaigns, s.bulletins = d.Campaigns, d.Bulletins // issue 18
	if d.Users != nil {
		s.users, s.signIns = d.Users, newSignInFailures()
		s.sessions = access.NewSessionAuthenticator(d.Users, cfg.SessionIdle, d.Now)
		if cfg.OIDC != nil && cfg.OIDC.Issuer != "" {
			s.oidc = newOIDCSignIn(*cfg.OIDC, d.Users)
		}
	}
	if d.App != nil {
		s.analysis, s.tiles, s.live = d.App.Analysis, d.App.Tiles, d.App.Live
	}
	// Projects and disputed cases (issue 17) need the case index.
	if d.Projects != nil && s.live != nil && d.Cases != nil {
		s.projects, s.places, s.shapes = d.Projects, &placeMemo{}, &projectShapes{}
	}
	s.positions = d.Positions // change feed positions (issue 14)
	if s.positions == nil && s.live != nil {
		s.positions = s.live
	}
	s.metrics = newMetrics(d.Registry, d.Index)
	s.limits = newLimiter(cfg, time.Now)
	r := chi.NewRouter()
	// GetHead answers HEAD on every GET route (net/http drops the body);
	// routes whose GET never ends (the event stream) register their own.
	r.Use(middleware.RequestID, middleware.RealIP, s.logRequests, s.recoverPanics, s.stampPositions, s.answerPreflight, s.authenticate,
		s.awaitPositions, // change feed positions (issue 14)
		s.decodeRequestBodies, s.compressReplies, middleware.GetHead)
	r.NotFound(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		return citygrid.Errorf(citygrid.CodeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}))
	r.MethodNotAllowed(s.handle(func(w http.ResponseWriter, req *http.Request) error {
		// RFC 9110 asks a 405 to say what is allowed; chi keeps that to
		// itself, so ask the routes.
		allowed := allowedMethods(r, req.URL.Path)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return citygrid.Errorf(citygrid.CodeMethod, "method %s not allowed on %s (allowed: %s)", req.Method, req.URL.Path, strings.Join(allowed, ", "))
	}))
	r.Get("/healthz", s.handleHealth)
	r.Get("/readyz", s.handle(s.handleReady))
	r.Handle("/metrics", promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{}))
	// The battle map: the page, its assets and its glyphs (package web).
	page := web.Handler()
	r.Handle("/", page)
	r.Handle("/static/*", page)
	r.Handle("/fonts/*", page)
	// Browsers ask for /favicon.ico on any document without an icon of its
	// own (/healthz opened in a tab): the page's icon, without a key.
	r.Get("/favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/static/favicon.svg", http.StatusMovedPermanently)
	})
	// OGC API – Features and the OpenAPI document (issue 16).
	s.registerOGCRoutes(r)
	r.Get("/openapi.json", s.handleOpenAPI)
	if s.tiles != nil {
		r.Group(func(r chi.Router) {
			r.Use(middleware.Timeout(cfg.RequestTimeout))
			s.registerTileRoutes(r)
		})
	}
	if s.projects != nil {
		// Projects and disputed cases (issue 17), all in project.go.
		r.Group(func(r chi.Router) {
			r.Use(middleware.Timeout(cfg.RequestTimeout))
			s.registerProjectRoutes(r)
		})
	}
	r.Route("/v1", func(r chi.Router) {
		r.Group(func(r chi.Router) {
			r.Use(middleware.Timeout(cfg.RequestTimeout))
			r.Get("/me", s.handle(s.handleMe))
			if s.keys != nil {
				s.registerKeyRoutes(r)
			}
			if s.audit != nil {
				r.Get("/audit", s.handle(s.handleAudit))
			}
			if s.users != nil {
				s.registerUserRoutes(r)
				r.Post("/session", s.handle(s.handleSignIn))
				r.Delete("/session", s.handle(s.handleSignOut))
				if s.oidc != nil {
					r.Get("/oidc/login", s.handle(s.handleOIDCLogin))
					r.Get("/oidc/callback", s.handle(s.handleOIDCCallback))
				}
			}
			s.registerGridRoutes(r)
			s.registerGridVersionRoutes(r) // grid versions (issue 19)
			s.registerUnitRoutes(r)
			s.registerLocateRoutes(r)
			s.registerLifecycleRoutes(r)
			if s.cases != nil {
				s.registerCaseRoutes(r)
			}
			if s.cases != nil && s.stats != nil {
				r.Get("/stats", s.handle(s.handleStats))
			}
			if s.analysis != nil {
				r.Get("/hotspots", s.limited(limitRead, s.handle(s.handleHotspots)))
				r.Get("/hotspots/emerging", s.limited(limitRead, s.handle(s.handleHotspotsEmerging)))
			}
			// Campaigns and bulletins (issue 18).
			if s.campaigns != nil && s.cases != nil && s.stats != nil {
				s.registerCampaignRoutes(r)
			}
			if s.bulletins != nil && s.cases != nil {
				s.registerBulletinRoutes(r)
			}
		})
		r.Group(func(r chi.Router) {
			// Imports stream large bodies: no timeout but the server's.
			s.registerGridImportRoute(r)
			s.registerGridVersionDraftRoute(r) // grid versions (issue 19)
			// Live events stream for as long as the client stays.
			if s.live != nil {
				r.Get("/events", s.handle(s.handleEvents))
				r.Head("/events", s.handle(s.handleEventsHead))
				r.Post("/events/ticket", s.handle(s.handleEventTicket))
			}
			if s.cases != nil {
				r.Post("/cases/bulk", s.limited(limitBulk, s.handle(s.handleCasesBulk)))
			}
		})
	})
	// Open311 GeoReport v2 (issue 15): its own subrouter, whose refusals
	// and unknown paths answer in the spec's error format.
	if s.cases != nil {
		r.Route(open311Prefix, func(r chi.Router) {
			r.Use(middleware.Timeout(cfg.RequestTimeout))
			s.registerOpen311Routes(r)
		})
	}
	s.router = r
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// locator returns the current locator or a 503 while it is being built.
func (s *Server) locator() (*grid.Locator, error) {
	l := s.index.Locator()
	if l == nil {
		return nil, citygrid.Errorf(citygrid.CodeUnavailable, "the grid index is still being built")
	}
	return l, nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	_ = writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			s.logger.WarnContext(ctx, "not ready: database", "err", err)
			return citygrid.Errorf(citygrid.CodeUnavailable, "database not reachable")
		}
	}
	l := s.index.Locator()
	if l == nil {
		return citygrid.Errorf(citygrid.CodeUnavailable, "grid index not built yet")
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"status": "ready", "grids": l.Len(), "index_cells": l.IndexedCells(),
		"index_built_at": s.index.BuiltAt().UTC().Format(time.RFC3339),
	})
}

// logRequests logs one structured line per request and feeds the metrics.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		route := chi.RouteContext(r.Context()).RoutePattern()
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		s.metrics.observe(r.Method, route, ww.Status(), elapsed)
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "http request",
			slog.String("method", r.Method), slog.String("route", route), slog.String("path", r.URL.Path),
			slog.Int("status", ww.Status()), slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("elapsed", elapsed), slog.String("req_id", middleware.GetReqID(r.Context())))
	})
}

// recoverPanics turns a panic (a programmer error) into a logged 500.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.ErrorContext(r.Context(), "panic", "value", v, "req_id", middleware.GetReqID(r.Context()))
				writeProblem(w, r, citygrid.Errorf(citygrid.CodeInternal, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
