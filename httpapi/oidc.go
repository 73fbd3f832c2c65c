package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"citygrid"
	"citygrid/access"
)

// OIDCConfig turns on sign-in through a city's OpenID Connect identity
// provider (authorization code flow with PKCE, state and nonce).
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL; discovery is at Issuer + /.well-known/openid-configuration
	ClientID     string
	ClientSecret string
	// RedirectURL is the callback registered at the provider (default:
	// /v1/oidc/callback on the host and scheme of the sign-in request).
	RedirectURL string
	Claims      access.ClaimMapping
	// HTTPClient talks to the provider (default: one with a 10 s timeout).
	HTTPClient *http.Client
}

// OIDCUserStore makes or updates the users an identity provider signs in
// (postgres.UserStore).
type OIDCUserStore interface {
	SignInOIDCUser(ctx context.Context, u access.User, now time.Time) (*access.User, error)
}

// oidcCookie holds a sign-in's state, nonce and PKCE verifier between the
// redirect to the provider and its way back: HttpOnly, SameSite=Lax (the
// way back is a top-level navigation from the provider's site, which a
// Strict cookie would miss), only on /v1/oidc/, for oidcFlowMaxAge.
const (
	oidcCookie     = "citygrid_oidc"
	oidcFlowMaxAge = 10 * time.Minute
	// oidcMaxIDToken bounds the ID token parsed: a token with an oversized
	// header or body is refused before any decoding.
	oidcMaxIDToken = 16 << 10
)

// oidcSignIn is the server's OpenID Connect client. The provider is
// discovered at the first sign-in (and again after a failure), so that a
// provider that is down does not stop the service from starting.
type oidcSignIn struct {
	cfg   OIDCConfig
	users OIDCUserStore

	mu       sync.Mutex
	provider *oidc.Provider
}

func newOIDCSignIn(cfg OIDCConfig, users UserStore) *oidcSignIn {
	ou, ok := users.(OIDCUserStore)
	if !ok {
		panic("httpapi: Config.OIDC needs Deps.Users to be an OIDCUserStore")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &oidcSignIn{cfg: cfg, users: ou}
}

func (o *oidcSignIn) ctx(ctx context.Context) context.Context {
	ctx = oidc.ClientContext(ctx, o.cfg.HTTPClient)
	return context.WithValue(ctx, oauth2.HTTPClient, o.cfg.HTTPClient)
}

func (o *oidcSignIn) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(o.ctx(context.WithoutCancel(ctx)), o.cfg.Issuer)
	if err != nil {
		return nil, citygrid.Errorf(citygrid.CodeUnavailable, "the identity provider does not answer its discovery document: try again later")
	}
	o.provider = p
	return p, nil
}

func (o *oidcSignIn) oauth2Config(r *http.Request, p *oidc.Provider) *oauth2.Config {
	redirect := o.cfg.RedirectURL
	if redirect == "" {
		scheme := "http"
		if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			scheme = "https"
		}
		redirect = scheme + "://" + r.Host + "/v1/oidc/callback"
	}
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, Endpoint: p.Endpoint(),
		RedirectURL: redirect, Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

func (s *Server) handleOIDCLogin(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return citygrid.Errorf(citygrid.CodeNotFound, "OpenID Connect sign-in is not configured (-oidc-issuer)")
	}
	p, err := s.oidc.discover(r.Context())
	if err != nil {
		return err
	}
	state, _ := access.NewSessionToken()
	nonce, _ := access.NewSessionToken()
	verifier := oauth2.GenerateVerifier()
	http.SetCookie(w, s.oidcFlowCookie(r, state+"."+nonce+"."+verifier, int(oidcFlowMaxAge/time.Second)))
	url := s.oidc.oauth2Config(r, p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, url, http.StatusFound)
	return nil
}

func (s *Server) oidcFlowCookie(r *http.Request, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: oidcCookie, Value: value, Path: "/v1/oidc/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")}
}

func (s *Server) handleOIDCCallback(w http.ResponseWriter, r *http.Request) error {
	if s.oidc == nil {
		return citygrid.Errorf(citygrid.CodeNotFound, "OpenID Connect sign-in is not configured (-oidc-issuer)")
	}
	refuse := func(status int, subject, reason string, err error) error {
		s.refuse(r, access.Entry{Action: "signin_fail", ObjectType: "user", ObjectID: subject, HTTPStatus: status, Detail: "oidc: " + reason})
		return err
	}
	// The flow's cookie is for one try, whatever happens.
	http.SetCookie(w, s.oidcFlowCookie(r, "", -1))
	q := r.URL.Query()
	var state, nonce, verifier string
	if c, err := r.Cookie(oidcCookie); err == nil {
		parts := strings.Split(c.Value, ".")
		if len(parts) == 3 {
			state, nonce, verifier = parts[0], parts[1], parts[2]
		}
	}
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(q.Get("state"))) != 1 {
		return refuse(http.StatusBadRequest, "", "state missing or wrong",
			citygrid.Errorf(citygrid.CodeInvalid, "this sign-in was not started here, or took longer than %d minutes: start again at /v1/oidc/login", int(oidcFlowMaxAge/time.Minute)))
	}
	// The provider's own refusal, once the state shows it answers our request.
	if e := q.Get("error"); e != "" {
		e = clip(e, 100)
		return refuse(http.StatusUnauthorized, "", "provider error "+e,
			citygrid.Errorf(citygrid.CodeUnauthenticated, "the identity provider refused the sign-in (%s)", e))
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		return refuse(http.StatusBadRequest, "", "no code", citygrid.Errorf(citygrid.CodeInvalid, "the identity provider sent no code"))
	}
	p, err := s.oidc.discover(r.Context())
	if err != nil {
		return err
	}
	ctx := s.oidc.ctx(r.Context())
	tok, err := s.oidc.oauth2Config(r, p).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) {
			s.logger.WarnContext(r.Context(), "oidc: token endpoint", "err", err)
			return citygrid.Errorf(citygrid.CodeUnavailable, "the identity provider's token endpoint does not answer: try again later")
		}
		return refuse(http.StatusUnauthorized, "", "code exchange refused: "+clip(re.ErrorCode, 100),
			citygrid.Errorf(citygrid.CodeUnauthenticated, "the identity provider did not accept the sign-in code: start again at /v1/oidc/login"))
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" || len(raw) > oidcMaxIDToken {
		return refuse(http.StatusUnauthorized, "", "no ID token, or one over 16 KiB",
			citygrid.Errorf(citygrid.CodeUnauthenticated, "the identity provider sent no usable ID token"))
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.oidc.cfg.ClientID, SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256}, Now: s.now}).Verify(ctx, raw)
	if err != nil {
		return refuse(http.StatusUnauthorized, "", "ID token refused: "+clip(err.Error(), 200),
			citygrid.Errorf(citygrid.CodeUnauthenticated, "the identity provider's ID token did not verify"))
	}
	if idt.Subject == "" {
		return refuse(http.StatusUnauthorized, "", "ID token without a subject",
			citygrid.Errorf(citygrid.CodeUnauthenticated, "the identity provider's ID token names no subject"))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return refuse(http.StatusUnauthorized, access.OIDCUserName(idt.Subject), "nonce wrong",
			citygrid.Errorf(citygrid.CodeUnauthenticated, "the identity provider's ID token was not made for this sign-in"))
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return refuse(http.StatusUnauthorized, access.OIDCUserName(idt.Subject), "claims unreadable",
			citygrid.Errorf(citygrid.CodeUnauthenticated, "the identity provider's ID token did not verify"))
	}
	u, err := s.oidc.cfg.Claims.Grant(idt.Subject, claims)
	if err == nil {
		err = u.Validate()
	}
	if err != nil {
		return refuse(http.StatusForbidden, u.Name, clip(err.Error(), 200),
			citygrid.Errorf(citygrid.CodeForbidden, "signed in at the identity provider as %q, but its claims give no usable citygrid grant: %s", u.Name, clip(err.Error(), 200)))
	}
	stored, err := s.oidc.users.SignInOIDCUser(r.Context(), u, s.now())
	if err != nil {
		var ce *citygrid.Error
		if errors.As(err, &ce) && (ce.Code == citygrid.CodeForbidden || ce.Code == citygrid.CodeUnprocessable) {
			return refuse(http.StatusForbidden, u.Name, clip(ce.Message, 200),
				citygrid.Errorf(citygrid.CodeForbidden, "signed in at the identity provider as %q, but may not sign in here: %s", u.Name, ce.Message))
		}
		return err
	}
	if stored.Disabled {
		return refuse(http.StatusForbidden, stored.Name, "user disabled",
			citygrid.Errorf(citygrid.CodeForbidden, "user %q is disabled", stored.Name))
	}
	if _, err := s.startSession(w, r, stored); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// clip shortens s to n bytes for a log or a reply, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
