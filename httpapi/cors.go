package httpapi

import (
	"net/http"
	"strings"
)

// answerPreflight answers a CORS preflight for the tiles, which a map page
// on another origin asks before it sends a tile request with an
// Authorization header. The preflight carries no credential (browsers
// never send one on it), so it is answered before authentication; it
// reveals nothing but that tiles may be asked for with a key.
func (s *Server) answerPreflight(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" ||
			!strings.HasPrefix(r.URL.Path, "/tiles") || s.cfg.CORSOrigin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", s.cfg.CORSOrigin)
		h.Set("Access-Control-Allow-Methods", "GET, HEAD")
		h.Set("Access-Control-Allow-Headers", "Authorization, If-None-Match")
		h.Set("Access-Control-Max-Age", "600")
		h.Add("Vary", "Origin")
		w.WriteHeader(http.StatusNoContent)
	})
}
