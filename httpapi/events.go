package httpapi

import (
	"citygrid/cases"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Live events (GET /v1/events): a text/event-stream on which the server
// sends one "case" event for every case this process creates or changes
// and one "bulk" event when a bulk ingest stored cases (then anything may
// have changed). The battle map listens and reloads the tiles and lists a
// change touches. Changes made by other citygrid processes are not relayed.
//
// Events are not replayed: a client that reconnects (EventSource does so
// by itself) should refresh what it shows, as the page does on "hello".

const (
	// eventBuffer is how many events a slow client may lag behind before
	// its stream is closed (it reconnects and refreshes everything).
	eventBuffer = 256
	// eventHeartbeat keeps proxies from closing an idle stream.
	eventHeartbeat = 20 * time.Second
	// eventWriteTimeout bounds one write to a client.
	eventWriteTimeout = 15 * time.Second
)

// caseEvent is the data of a "case" event.
type caseEvent struct {
	ID         string       `json:"id"`
	Status     cases.Status `json:"status"`
	Category   string       `json:"category"`
	Title      string       `json:"title"`
	Grid       string       `json:"grid"`
	Unit       string       `json:"unit"`
	Location   [2]float64   `json:"location"` // WGS84 [lng, lat]
	Version    int          `json:"version"`
	Overdue    bool         `json:"overdue"`
	ReportedAt string       `json:"reported_at"`
	At         string       `json:"at"`
}

// eventBroker fans events out to the open streams. The zero value is ready
// to use.
type eventBroker struct {
	mu     sync.Mutex
	subs   map[chan []byte]struct{}
	closed bool
}

// subscribe returns a channel of encoded events, closed when the client
// lags too far behind or the broker closes, and a function to leave.
func (b *eventBroker) subscribe() (<-chan []byte, func()) {
	ch := make(chan []byte, eventBuffer)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		close(ch)
		return ch, func() {}
	}
	if b.subs == nil {
		b.subs = map[chan []byte]struct{}{}
	}
	b.subs[ch] = struct{}{}
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// publish sends one event to every stream without blocking.
func (b *eventBroker) publish(name string, data any) {
	body, err := json.Marshal(data)
	if err != nil {
		return // the event types marshal; nothing to tell anyone
	}
	msg := []byte("event: " + name + "\ndata: " + string(body) + "\n\n")
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- msg:
		default: // too far behind: end its stream, it reconnects and resyncs
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// close ends every stream and refuses new ones.
func (b *eventBroker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}

// publishCaseEvent tells the streams that c was created or changed.
func (b *eventBroker) publishCaseEvent(c *cases.Case, now time.Time) {
	b.publish("case", caseEvent{
		ID: strconv.FormatInt(c.ID, 10), Status: c.Status, Category: c.Category, Title: c.Title,
		Grid: c.Grid, Unit: c.Unit, Location: [2]float64{c.Location[0], c.Location[1]}, Version: c.Version,
		Overdue: c.Overdue(now), ReportedAt: c.ReportedAt.UTC().Format(time.RFC3339), At: now.UTC().Format(time.RFC3339),
	})
}

// publishBulkEvent tells the streams that many cases changed at once.
func (b *eventBroker) publishBulkEvent(now time.Time) {
	b.publish("bulk", map[string]string{"at": now.UTC().Format(time.RFC3339)})
}

// PublishCase tells the live streams of a case another process created or
// changed (nil: many cases at once, a bulk ingest elsewhere). Changes made
// through this server are published by the server itself.
func (s *Server) PublishCase(c *cases.Case) {
	if c == nil {
		s.events.publishBulkEvent(s.now())
		return
	}
	s.events.publishCaseEvent(c, s.now())
}

// CloseStreams ends the open event streams, so that a graceful shutdown
// need not wait for them (http.Server.RegisterOnShutdown).
func (s *Server) CloseStreams() { s.events.close() }

// handleEvents serves GET /v1/events as server-sent events.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	ch, leave := s.events.subscribe()
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
		}
	}
}
