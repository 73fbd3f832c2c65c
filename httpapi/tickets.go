package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"citygrid"
	"citygrid/access"
)

// A browser's EventSource cannot send an Authorization header
// (whatwg/html#2177), and a key must never travel in a URL. So the page
// asks for a ticket with its key (POST /v1/events/ticket) and opens the
// stream with it: a random value good for one stream, within ticketTTL.

// ticketTTL is how long a ticket waits to be used.
const ticketTTL = 60 * time.Second

type ticket struct {
	p       *access.Principal
	expires time.Time
}

// tickets are the single-use stream tickets of this process.
type tickets struct {
	mu   sync.Mutex
	byID map[string]ticket
}

func newTickets() *tickets { return &tickets{byID: map[string]ticket{}} }

// issue returns a fresh ticket for p.
func (t *tickets) issue(p *access.Principal, now time.Time) (string, time.Time) {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand does not fail on supported platforms
	id := base64.RawURLEncoding.EncodeToString(b)
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.byID {
		if now.After(v.expires) {
			delete(t.byID, k)
		}
	}
	exp := now.Add(ticketTTL)
	t.byID[id] = ticket{p: p, expires: exp}
	return id, exp
}

// redeem spends a ticket.
func (t *tickets) redeem(id string) (*access.Principal, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tk, ok := t.byID[id]
	delete(t.byID, id)
	if !ok || time.Now().After(tk.expires) {
		return nil, unauthenticated("unknown, used or expired stream ticket")
	}
	return tk.p, nil
}

func (s *Server) handleEventTicket(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	if sessionOf(r) != nil {
		// A ticket's stream could not follow the session's end.
		return citygrid.Errorf(citygrid.CodeInvalid, "a signed-in page opens GET /v1/events with its session cookie: tickets are for API keys")
	}
	id, exp := s.tickets.issue(principal(r), time.Now())
	return writeJSON(w, http.StatusCreated, map[string]string{"ticket": id, "expires_at": exp.UTC().Format(time.RFC3339)})
}
