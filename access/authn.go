package access

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"time"
)

// KeyLookup finds a key by its token's hash; a key that does not exist is
// (nil, nil).
type KeyLookup interface {
	KeyByHash(ctx context.Context, hash []byte) (*Key, error)
}

// ErrUnauthenticated is a missing, malformed, unknown, revoked or expired
// credential: one error for every reason, so that nothing about keys leaks.
var ErrUnauthenticated = errors.New("a valid API key is required (Authorization: Bearer cg_…)")

// authnTTL is how long a looked-up key is trusted before the database is
// asked again: a key made or revoked by any process works or stops within
// it.
const authnTTL = 500 * time.Millisecond

// lookupTimeout bounds one look-up of a key or session.
const lookupTimeout = 5 * time.Second

// Authenticator turns tokens into principals, remembering each lookup
// briefly so that a busy client costs one query per authnTTL.
type Authenticator struct {
	keys KeyLookup
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	key *Key // nil: no such key
	at  time.Time
}

// NewAuthenticator returns an authenticator over keys.
func NewAuthenticator(keys KeyLookup, now func() time.Time) *Authenticator {
	if now == nil {
		now = time.Now
	}
	return &Authenticator{keys: keys, now: now, cache: map[string]cached{}}
}

// Authenticate returns the principal token names, or ErrUnauthenticated
// (wrapped with the reason for the log).
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	hash, err := HashToken(token)
	if err != nil {
		return nil, errors.Join(ErrUnauthenticated, err)
	}
	k, err := a.lookup(ctx, hash)
	if err != nil {
		return nil, err
	}
	if k == nil {
		return nil, errors.Join(ErrUnauthenticated, errors.New("no such key"))
	}
	if err := k.Usable(a.now()); err != nil {
		return nil, errors.Join(ErrUnauthenticated, err)
	}
	return k.Principal(), nil
}

func (a *Authenticator) lookup(ctx context.Context, hash []byte) (*Key, error) {
	id := hex.EncodeToString(hash)
	now := time.Now()
	a.mu.Lock()
	c, ok := a.cache[id]
	a.mu.Unlock()
	if ok && now.Sub(c.at) < authnTTL {
		return c.key, nil
	}
	// The look-up finishes even when the client goes away: it is cheap,
	// its answer is remembered for the next request, and a query cut off
	// half-way costs its connection.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
	defer cancel()
	k, err := a.keys.KeyByHash(ctx, hash)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) > 10000 {
		// Forged tokens must not grow the cache without bound.
		for id, c := range a.cache {
			if now.Sub(c.at) >= authnTTL {
				delete(a.cache, id)
			}
		}
	}
	a.cache[id] = cached{key: k, at: now}
	return k, nil
}

// Forget drops every remembered lookup (after a revocation here, so that it
// takes effect at once in this process).
func (a *Authenticator) Forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.cache)
}
