package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"citygrid/access"
	"citygrid/cases"
	"citygrid/live"
)

// Live events (GET /v1/events): a text/event-stream of the live hub's
// events: one "case" event for every case created or changed, here or in
// another citygrid process, with the tiles it made stale, and one "bulk"
// event when a bulk ingest stored cases (then anything may have changed).
// The battle map listens and refreshes the tiles and lists a change touches.
//
// A stream is its caller's: it hears only of the cases of its scope (a
// case re-assigned out of it is one {"id", "gone": true, "at", "tiles"}
// event, naming where it was, never where it went), and a case's title
// only when its role may read reporters' free text. It re-checks its
// credential every streamRecheck and ends, with an "end" event, once the
// key is revoked or expired.
//
// Events are not replayed: a client that reconnects (EventSource does so
// by itself) should refresh what it shows, as the page does on "hello".
const (
	// eventHeartbeat keeps proxies from closing an idle stream.
	eventHeartbeat = 20 * time.Second
	// eventWriteTimeout bounds one write to a client.
	eventWriteTimeout = 15 * time.Second
	// streamRecheck is how often a stream asks whether its key still
	// holds: a revoked key's streams end within it (plus the
	// authenticator's half-second memory).
	streamRecheck = 2 * time.Second
	// sessionRecheck is streamRecheck for a signed-in page's stream: a
	// disabled user's open page loses it within a second (with the
	// session lookup's half-second memory).
	sessionRecheck = 400 * time.Millisecond
)

// CloseStreams ends the open event streams, so that a graceful shutdown
// need not wait for them (http.Server.RegisterOnShutdown).
func (s *Server) CloseStreams() { s.live.Close() }

// handleEvents serves GET /v1/events as server-sent events.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query(), "ticket"); err != nil {
		return err
	}
	p := principal(r)
	still := s.streamCredential(r, p)
	audience := live.Audience{FreeText: p.Role.SeesFreeText()}
	var scope *streamScope
	if sc := s.scopeOf(r); !sc.Whole() {
		// Resolved again on every re-check: a grid import may change
		// what the scope's subtrees hold.
		scope = &streamScope{}
		scope.cur.Store(sc)
		audience.Scope = scope
	}
	ch, leave := s.live.Subscribe(audience)
	defer leave()
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	send := func(msg []byte) bool {
		// Each write gets its own deadline: the stream outlives the
		// server's write timeout.
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := w.Write(msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	hello, _ := json.Marshal(map[string]string{"at": s.now().UTC().Format(time.RFC3339)})
	if !send([]byte("retry: 3000\nevent: hello\ndata: " + string(hello) + "\n\n")) {
		return nil
	}
	beat := time.NewTicker(eventHeartbeat)
	defer beat.Stop()
	every := streamRecheck
	if sessionOf(r) != nil {
		every = sessionRecheck
	}
	recheck := time.NewTicker(every)
	defer recheck.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case msg, ok := <-ch:
			if !ok || !send(msg) {
				return nil
			}
		case <-beat.C:
			if !send([]byte(": keep-alive\n\n")) {
				return nil
			}
		case <-recheck.C:
			if err := still(r.Context()); err != nil {
				if r.Context().Err() == nil {
					s.logger.InfoContext(r.Context(), "event stream ended: credential", "key", p.KeyID, "err", err)
					end, _ := json.Marshal(map[string]string{"reason": "the credential is no longer valid", "at": s.now().UTC().Format(time.RFC3339)})
					send([]byte("event: end\ndata: " + string(end) + "\n\n"))
				}
				return nil
			}
			if scope != nil {
				scope.cur.Store(s.scopeOf(r))
			}
		}
	}
}

// streamScope is a stream's scope, swapped when the grids change; the hub
// reads it from its own goroutine.
type streamScope struct{ cur atomic.Pointer[access.Scope] }

func (s *streamScope) Sees(c *cases.Case) bool { return s.cur.Load().Sees(c) }

// errKeyGone is a stream's key revoked, expired or deleted since it opened.
var errKeyGone = errors.New("the stream's key is no longer usable")

// streamCredential returns the check a stream makes of its credential:
// the bearer token it was opened with, authenticated again (the
// authenticator remembers a look-up for half a second, so this costs at
// most a query per stream and re-check); or, for a stream opened with a
// ticket, the key the ticket was issued to, looked up in the key store by
// its id. Without a key store, only the key's expiry is checked.
func (s *Server) streamCredential(r *http.Request, p *access.Principal) func(context.Context) error {
	expired := func() error {
		if p.ExpiresAt != nil && !s.now().Before(*p.ExpiresAt) {
			return errKeyGone
		}
		return nil
	}
	if sess := sessionOf(r); sess != nil {
		c, _ := r.Cookie(SessionCookie) // there: the session came from it
		return func(ctx context.Context) error {
			_, q, err := s.sessions.Authenticate(ctx, c.Value)
			if err != nil {
				return err
			}
			// The stream's audience was fixed when it opened: a user
			// whose role, scope or unit changed opens it again.
			if q.UserID != p.UserID || q.Role != p.Role || q.Unit != p.Unit || !slices.Equal(q.Scope, p.Scope) {
				return errKeyGone
			}
			return nil
		}
	}
	if scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(token)
		return func(ctx context.Context) error {
			q, err := s.authn.Authenticate(ctx, token)
			if err != nil {
				return err
			}
			if q.KeyID != p.KeyID {
				return errKeyGone
			}
			return expired()
		}
	}
	if s.keys == nil || p.KeyID == 0 {
		return func(context.Context) error { return expired() }
	}
	return func(ctx context.Context) error {
		k, err := s.keys.KeyByID(ctx, p.KeyID)
		if err != nil {
			return err
		}
		if k == nil {
			return errKeyGone
		}
		return k.Usable(s.now())
	}
}
