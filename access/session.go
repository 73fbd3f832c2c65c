package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// Session is a signed-in user's browser session. The cookie holds a random
// token, stored only as its SHA-256 (like a key's); the CSRF token is a
// second random value the page sends in X-CSRF-Token on every change,
// which a cross-site form cannot know.
type Session struct {
	ID        int64
	UserID    int64
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time // the latest end, however busy
	LastSeen  time.Time
	User      *User // as stored now: disabled or changed users are seen at once
}

// SessionLookup finds a live session by its token's hash, marking it seen
// at now; one that does not exist, has expired or sat idle longer than
// idle is (nil, nil).
type SessionLookup interface {
	SessionByHash(ctx context.Context, hash []byte, now time.Time, idle time.Duration) (*Session, error)
}

// sessionTokenLen is a session token's length: 32 random bytes, base64url.
const sessionTokenLen = 43

// NewSessionToken returns a fresh random token (for a session cookie or a
// CSRF token) and its SHA-256.
func NewSessionToken() (token string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("access: no randomness: " + err.Error())
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	h := sha256.Sum256([]byte(token))
	return token, h[:]
}

// HashSessionToken checks a presented session token's form and returns the
// hash to look it up by.
func HashSessionToken(token string) ([]byte, error) {
	if len(token) != sessionTokenLen {
		return nil, errors.New("malformed session token")
	}
	if _, err := base64.RawURLEncoding.DecodeString(token); err != nil {
		return nil, errors.New("malformed session token")
	}
	h := sha256.Sum256([]byte(token))
	return h[:], nil
}

// CheckCSRF reports whether presented is the session's CSRF token, in
// constant time.
func (s *Session) CheckCSRF(presented string) bool {
	return presented != "" && subtle.ConstantTimeCompare([]byte(presented), []byte(s.CSRFToken)) == 1
}

// ErrSignedOut is a session cookie that names no live session, or a user
// who may no longer sign in.
var ErrSignedOut = errors.New("not signed in, or the session has ended: sign in again (POST /v1/session)")

// SessionAuthenticator turns session tokens into principals, remembering
// each lookup for authnTTL like the key Authenticator: a user disabled or
// changed on any process is seen by every process within it.
type SessionAuthenticator struct {
	sessions SessionLookup
	idle     time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]cachedSession
}

type cachedSession struct {
	s  *Session // nil: none
	at time.Time
}

// NewSessionAuthenticator returns an authenticator over sessions, which
// end after idle without a request.
func NewSessionAuthenticator(sessions SessionLookup, idle time.Duration, now func() time.Time) *SessionAuthenticator {
	if now == nil {
		now = time.Now
	}
	return &SessionAuthenticator{sessions: sessions, idle: idle, now: now, cache: map[string]cachedSession{}}
}

// Authenticate returns the session token names and who it acts as, or an
// error wrapping both ErrUnauthenticated and ErrSignedOut.
func (a *SessionAuthenticator) Authenticate(ctx context.Context, token string) (*Session, *Principal, error) {
	refused := func(reason string) error {
		return errors.Join(ErrUnauthenticated, ErrSignedOut, errors.New(reason))
	}
	hash, err := HashSessionToken(token)
	if err != nil {
		return nil, nil, refused(err.Error())
	}
	id := hex.EncodeToString(hash)
	mono := time.Now()
	a.mu.Lock()
	c, ok := a.cache[id]
	a.mu.Unlock()
	if !ok || mono.Sub(c.at) >= authnTTL {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout) // as Authenticator.lookup
		s, err := a.sessions.SessionByHash(lctx, hash, a.now(), a.idle)
		cancel()
		if err != nil {
			return nil, nil, err
		}
		c = cachedSession{s: s, at: mono}
		a.mu.Lock()
		if len(a.cache) > 10000 {
			for k, v := range a.cache {
				if mono.Sub(v.at) >= authnTTL {
					delete(a.cache, k)
				}
			}
		}
		a.cache[id] = c
		a.mu.Unlock()
	}
	switch s := c.s; {
	case s == nil || s.User == nil:
		return nil, nil, refused("no such session")
	case !a.now().Before(s.ExpiresAt):
		return nil, nil, refused("session expired")
	case s.User.Disabled:
		return nil, nil, refused("user disabled")
	default:
		return s, s.User.Principal(), nil
	}
}

// Forget drops every remembered lookup (after a change here, so that it
// takes effect at once in this process).
func (a *SessionAuthenticator) Forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.cache)
}
