package httpapi

import (
	"bytes"
	"io"
	"net/http"

	"github.com/go-chi/chi/v5"

	"citygrid/grid"
	"citygrid/internal/strictjson"
)

func (s *Server) registerUnitRoutes(r chi.Router) {
	r.Get("/units", s.handle(s.handleUnitsList))
	r.Post("/units", s.handle(s.handleUnitsUpsert))
}

func (s *Server) handleUnitsList(w http.ResponseWriter, r *http.Request) error {
	units, err := s.grids.FindUnits(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"units": units})
}

// maxUnitsPerRequest bounds one upsert; a district has dozens to hundreds.
const maxUnitsPerRequest = 10000

// handleUnitsUpsert takes one unit object or an array of them.
func (s *Server) handleUnitsUpsert(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err != nil {
		return jsonError(err, s.cfg.MaxBodyBytes)
	}
	var units []grid.Unit
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		err = strictjson.Decode(trimmed, &units)
	} else {
		var u grid.Unit
		err = strictjson.Decode(trimmed, &u)
		units = []grid.Unit{u}
	}
	if err != nil {
		return jsonError(err, s.cfg.MaxBodyBytes)
	}
	if len(units) == 0 {
		return invalid("no units given")
	}
	if len(units) > maxUnitsPerRequest {
		return invalid("at most %d units per request", maxUnitsPerRequest)
	}
	seen := map[string]int{}
	for i, u := range units {
		if err := grid.ValidateUnit(u); err != nil {
			return invalid("units[%d]: %v", i, err)
		}
		if j, dup := seen[u.Code]; dup {
			return invalid("units[%d]: duplicate code %q (also units[%d])", i, u.Code, j)
		}
		seen[u.Code] = i
	}
	ins, upd, err := s.grids.UpsertUnits(r.Context(), units)
	if err != nil {
		return err
	}
	if ins+upd > 0 {
		// Unit names appear in locate answers.
		if err := s.index.Rebuild(r.Context(), s.grids); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, map[string]int{"inserted": ins, "updated": upd})
}
