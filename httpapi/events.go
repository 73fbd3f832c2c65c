package httpapi

import (
	"encoding/json"
	"net/http"
	"time"
)

// Live events (GET /v1/events): a text/event-stream of the live hub's
// events: one "case" event for every case created or changed, here or in
// another citygrid process, with the tiles it made stale, and one "bulk"
// event when a bulk ingest stored cases (then anything may have changed).
// The battle map listens and refreshes the tiles and lists a change touches.
//
// Events are not replayed: a client that reconnects (EventSource does so
// by itself) should refresh what it shows, as the page does on "hello".

const (
	// eventHeartbeat keeps proxies from closing an idle stream.
	eventHeartbeat = 20 * time.Second
	// eventWriteTimeout bounds one write to a client.
	eventWriteTimeout = 15 * time.Second
)

// CloseStreams ends the open event streams, so that a graceful shutdown
// need not wait for them (http.Server.RegisterOnShutdown).
func (s *Server) CloseStreams() { s.live.Close() }

// handleEvents serves GET /v1/events as server-sent events.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query(), "ticket"); err != nil {
		return err
	}
	ch, leave := s.live.Subscribe()
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
