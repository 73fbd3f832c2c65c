package httpapi

import "github.com/go-chi/chi/v5"

// Routes exposes the router to the external tests that walk it.
func Routes(s *Server) chi.Routes { return s.router }
