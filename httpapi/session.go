package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"citygrid"
	"citygrid/access"
)

// SessionCookie is the name of the session cookie.
const SessionCookie = "citygrid_session"

// CSRFHeader carries a cookie-authenticated request's CSRF token.
const CSRFHeader = "X-CSRF-Token"

// sessionMaxAge is the longest a session lives, however busy.
const sessionMaxAge = 7 * 24 * time.Hour

// Sign-in failures are slowed by refusal: after signInMaxPerUser failures
// for one user name, or signInMaxPerAddr from one client address, within
// signInWindow, sign-ins for that name (from that address) are refused
// with 429 and Retry-After until the oldest failure leaves the window,
// before any password is checked. The counts are per process.
const (
	signInWindow     = 15 * time.Minute
	signInMaxPerUser = 5
	signInMaxPerAddr = 20
)

// signInRefusal is the one answer to a wrong user name or password: which of
// the two was wrong is not said.
const signInRefusal = "wrong user name or password"

// signInFailures counts recent failed sign-ins by user name and by address.
type signInFailures struct {
	mu     sync.Mutex
	byUser map[string][]time.Time
	byAddr map[string][]time.Time
}

func newSignInFailures() *signInFailures {
	return &signInFailures{byUser: map[string][]time.Time{}, byAddr: map[string][]time.Time{}}
}

// recent drops the failures older than the window and returns the rest.
func recent(m map[string][]time.Time, k string, now time.Time) []time.Time {
	ts := m[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= signInWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(m, k)
	} else {
		m[k] = ts
	}
	return ts
}

// wait is how long a sign-in for user from addr must wait (0: none).
func (f *signInFailures) wait(user, addr string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d time.Duration
	if ts := recent(f.byUser, user, now); len(ts) >= signInMaxPerUser {
		d = ts[len(ts)-signInMaxPerUser].Add(signInWindow).Sub(now)
	}
	if ts := recent(f.byAddr, addr, now); len(ts) >= signInMaxPerAddr {
		d = max(d, ts[len(ts)-signInMaxPerAddr].Add(signInWindow).Sub(now))
	}
	return d
}

func (f *signInFailures) fail(user, addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.byUser) > 100000 || len(f.byAddr) > 100000 {
		// Bounded memory: a flood of names forgets the oldest state.
		clear(f.byUser)
		clear(f.byAddr)
	}
	f.byUser[user] = append(recent(f.byUser, user, now), now)
	f.byAddr[addr] = append(recent(f.byAddr, addr, now), now)
}

func (f *signInFailures) succeed(user string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.byUser, user)
}

// signInRequest is the body of POST /v1/session.
type signInRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	var in signInRequest
	if err := decodeJSON(w, r, 4096, &in); err != nil {
		return err
	}
	addr, now := clientAddr(r), time.Now()
	name := strings.TrimSpace(in.User)
	if wait := s.signIns.wait(name, addr, now); wait > 0 {
		s.refuse(r, access.Entry{Action: "signin_fail", ObjectType: "user", ObjectID: name, HTTPStatus: http.StatusTooManyRequests, Detail: "too many failed sign-ins"})
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return citygrid.Errorf(citygrid.CodeTooManyRequests, "too many failed sign-ins: try again in %d s", int(wait.Seconds())+1)
	}
	var u *access.User
	if name != "" {
		var err error
		if u, err = s.users.UserByName(r.Context(), name); err != nil {
			return err
		}
	}
	hash := ""
	if u != nil {
		hash = u.PasswordHash
	}
	ok := access.CheckPassword(hash, in.Password) // an unknown name costs as much as a wrong password
	if !ok || u.Disabled {
		s.signIns.fail(name, addr, now)
		reason := "wrong password"
		switch {
		case u == nil:
			reason = "no such user"
		case ok:
			reason = "user disabled"
		}
		s.refuse(r, access.Entry{Action: "signin_fail", ObjectType: "user", ObjectID: name, HTTPStatus: http.StatusUnauthorized, Detail: reason})
		return citygrid.Errorf(citygrid.CodeUnauthenticated, "%s", signInRefusal)
	}
	s.signIns.succeed(name)
	csrf, err := s.startSession(w, r, u)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"csrf_token": csrf, "me": me(u.Principal(), csrf)})
}

// startSession stores a new session of u (an audit row session.create, as
// u) and sets its cookie; it returns the session's CSRF token. Password and
// OpenID Connect sign-ins both end here.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *access.User) (csrf string, err error) {
	ctx := access.WithPrincipal(r.Context(), u.Principal())
	token, tokenHash := access.NewSessionToken()
	csrf, _ = access.NewSessionToken()
	at := s.now()
	if err := s.users.CreateSession(ctx, u.ID, tokenHash, csrf, at, at.Add(sessionMaxAge), s.cfg.SessionIdle); err != nil {
		return "", err
	}
	http.SetCookie(w, s.sessionCookie(r, token, 0))
	return csrf, nil
}

// sessionCookie is the cookie holding token (maxAge < 0: clearing it).
// Secure when the request came over TLS, directly or through a proxy that
// says so.
func (s *Server) sessionCookie(r *http.Request, token string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: token, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")}
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(SessionCookie); err == nil {
		if hash, err := access.HashSessionToken(c.Value); err == nil {
			if err := s.users.DeleteSession(r.Context(), hash); err != nil {
				return err
			}
			s.forgetSessions()
		}
	}
	http.SetCookie(w, s.sessionCookie(r, "", -1))
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type sessionKey struct{}

// sessionOf returns the session a request was authenticated by, or nil
// (a bearer key, a ticket).
func sessionOf(r *http.Request) *access.Session {
	sess, _ := r.Context().Value(sessionKey{}).(*access.Session)
	return sess
}

// cookiePrincipal authenticates the session cookie, if any.
func (s *Server) cookiePrincipal(ctx context.Context, r *http.Request) (*access.Principal, *access.Session, bool, error) {
	if s.sessions == nil {
		return nil, nil, false, nil
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil, nil, false, nil
	}
	sess, p, err := s.sessions.Authenticate(ctx, c.Value)
	return p, sess, true, err
}

// safeMethod reports whether a method changes nothing: such requests need
// no CSRF token.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
