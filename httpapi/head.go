package httpapi

import "net/http"

// handleEventsHead answers HEAD /v1/events with the stream's headers and
// ends: GET's handler streams for as long as the client stays, and a HEAD
// routed to it (middleware.GetHead) would hold the connection the same way
// while sending nothing. The headers are GET's (TestHeadOnEveryGetRoute),
// and so are its parameters (a stream ticket).
func (s *Server) handleEventsHead(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query(), "ticket"); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return nil
}
