package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb/geojson"

	"citygrid"
	"citygrid/access"
	"citygrid/grid"
)

func (s *Server) registerGridRoutes(r chi.Router) {
	r.Get("/grids", s.handle(s.handleGridsList))
	r.Get("/grids/topology", s.handle(s.handleGridsTopology))
	r.Get("/grids/{code}", s.handle(s.handleGridGet))
}

// registerGridImportRoute mounts POST /grids/import on a subrouter of its
// own. Registered on r beside /grids/{code}, the static path served POST
// only: chi, finding no other method there, falls through to the parameter
// route, so GET /grids/import asked for a grid coded "import" (404) instead
// of answering 405. A mounted subrouter takes every method at its path and
// answers those it lacks with the 405 handler, which this one gets for
// itself (see methodNotAllowed). Grid codes may not be "import"
// (grid.ReservedCodes).
func (s *Server) registerGridImportRoute(r chi.Router) {
	r.Route("/grids/import", func(r chi.Router) {
		r.MethodNotAllowed(s.methodNotAllowed(r))
		r.Post("/", s.handle(s.handleGridsImport))
	})
}

// gridRef is how a grid appears inside other answers.
type gridRef struct {
	Code  string     `json:"code"`
	Name  string     `json:"name"`
	Level grid.Level `json:"level"`
}

func newGridRef(g *grid.Grid) gridRef { return gridRef{Code: g.Code, Name: g.Name, Level: g.Level} }

func newGridFeature(g *grid.Grid) *geojson.Feature {
	f := geojson.NewFeature(g.Geometry)
	f.ID = g.Code
	ubc := g.UnitsByCategory
	if ubc == nil {
		ubc = map[string]string{}
	}
	f.Properties = geojson.Properties{
		"code":              g.Code,
		"name":              g.Name,
		"level":             g.Level.String(),
		"parent":            nullString(g.Parent),
		"unit":              nullString(g.Unit),
		"units_by_category": ubc,
		"area_m2":           g.AreaM2,
		"updated_at":        g.UpdatedAt.UTC().Format(time.RFC3339),
	}
	return f
}

// outlineFeature is a grid above the caller's scope: its outline and name,
// nothing of who is responsible for it.
func outlineFeature(g *grid.Grid) *geojson.Feature {
	f := geojson.NewFeature(g.Geometry)
	f.ID = g.Code
	f.Properties = geojson.Properties{"code": g.Code, "name": g.Name, "level": g.Level.String(), "parent": nullString(g.Parent), "outline_only": true}
	return f
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *Server) handleGridGet(w http.ResponseWriter, r *http.Request) error {
	// chi matches on the raw path only when it differs from the decoded
	// one (an escaped slash, for instance); otherwise the parameter is
	// already decoded and must not be decoded again.
	code := chi.URLParam(r, "code")
	if r.URL.RawPath != "" {
		var err error
		if code, err = url.PathUnescape(code); err != nil {
			return invalid("grid code is not a valid URL path segment")
		}
	}
	if err := grid.ValidateCode(code); err != nil {
		return invalid("grid code: %v", err)
	}
	if err := allowParams(r.URL.Query(), "at"); err != nil {
		return err
	}
	at, err := parseAt(r.URL.Query())
	if err != nil {
		return err
	}
	if !at.IsZero() {
		return s.gridAt(w, r, code, at) // grid versions (issue 19)
	}
	g, err := s.grids.FindGridByCode(r.Context(), code)
	if err != nil {
		return err
	}
	vis := s.scopeOf(r).Grid(code)
	if vis == access.Absent {
		return access.Hidden("grid", code, fmt.Sprintf("grid %q not found", code))
	}
	// The path to the root, read from the store: at most three more lookups.
	path := []gridRef{newGridRef(g)}
	for p := g; p.Parent != "" && len(path) <= len(grid.Levels); {
		if p, err = s.grids.FindGridByCode(r.Context(), p.Parent); err != nil {
			return err
		}
		path = append(path, newGridRef(p))
	}
	f := newGridFeature(g)
	if vis == access.Outline {
		f = outlineFeature(g)
	}
	f.Properties["path"] = path
	return writeGeoJSON(w, f)
}

func (s *Server) handleGridsList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "level", "parent", "bbox", "limit", "cursor", "at"); err != nil {
		return err
	}
	at, err := parseAt(q)
	if err != nil {
		return err
	}
	var f grid.Filter
	if v := q.Get("level"); v != "" {
		l, err := grid.ParseLevel(v)
		if err != nil {
			return invalid("level: %v", err)
		}
		f.Level = l
	}
	if v := q.Get("parent"); v != "" {
		if err := grid.ValidateCode(v); err != nil {
			return invalid("parent: %v", err)
		}
		f.Parent = v
	}
	if v := q.Get("bbox"); v != "" {
		b, err := parseBBox(v)
		if err != nil {
			return err
		}
		f.Bound = &b
	}
	if v := q.Get("limit"); v != "" {
		n, err := parseInt(v, "limit", 1, maxGridLimit)
		if err != nil {
			return err
		}
		f.Limit = n + 1 // one more tells whether there is a next page
	}
	if v := q.Get("cursor"); v != "" {
		c, err := decodeGridCursor(v)
		if err != nil {
			return err
		}
		f.After = c
	}
	scope := s.scopeOf(r)
	f.Codes = scope.VisibleGrids()
	var grids []*grid.Grid
	if at.IsZero() {
		grids, err = s.grids.FindGrids(r.Context(), f)
	} else {
		grids, err = s.gridsAt(r.Context(), f, at) // grid versions (issue 19)
	}
	if err != nil {
		return err
	}
	var next *string
	if f.Limit > 0 && len(grids) == f.Limit {
		grids = grids[:f.Limit-1]
		last := grids[len(grids)-1]
		c := encodeGridCursor(grid.Cursor{Level: last.Level, Code: last.Code})
		next = &c
	}
	fc := geojson.NewFeatureCollection()
	for _, g := range grids {
		if scope.Grid(g.Code) == access.Outline {
			fc.Append(outlineFeature(g))
		} else {
			fc.Append(newGridFeature(g))
		}
	}
	fc.ExtraMembers = geojson.Properties{"next": next}
	return writeGeoJSON(w, fc)
}

// maxGridLimit bounds a page of grids: a district has thousands.
const maxGridLimit = 100000

// encodeGridCursor makes the opaque cursor of the grid after c.
func encodeGridCursor(c grid.Cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeGridCursor(s string) (*grid.Cursor, error) {
	var c grid.Cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 512 || json.Unmarshal(b, &c) != nil || !c.Level.Valid() || grid.ValidateCode(c.Code) != nil {
		return nil, invalid("cursor is not one this query returned")
	}
	return &c, nil
}

func (s *Server) handleGridsTopology(w http.ResponseWriter, r *http.Request) error {
	t, err := s.grids.Topology(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// handleGridsImport takes a GeoJSON FeatureCollection. With partial=true the
// valid features are stored even when others are rejected; otherwise any
// rejection makes it a 422 that stores nothing.
func (s *Server) handleGridsImport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "partial"); err != nil {
		return err
	}
	partial, err := parseBool(q.Get("partial"), "partial")
	if err != nil {
		return err
	}
	inputs, err := grid.ParseFeatureCollection(http.MaxBytesReader(w, r.Body, s.cfg.MaxImportBytes))
	if err != nil {
		return s.importBodyError(err)
	}
	if len(inputs) == 0 {
		return invalid("the FeatureCollection has no features")
	}
	res, err := s.grids.ImportGrids(r.Context(), inputs, grid.ImportOptions{Partial: partial})
	if err != nil {
		return err
	}
	if !res.Committed {
		e := citygrid.Errorf(citygrid.CodeUnprocessable, "%d of %d features rejected; nothing was stored (add ?partial=true to store the valid ones)", len(res.Rejected), len(inputs))
		e.Details = map[string]any{"rejected": res.Rejected, "inserted": 0, "updated": 0}
		return e
	}
	if res.Inserted+res.Updated > 0 {
		if err := s.index.Rebuild(r.Context(), s.grids); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, res)
}

func writeGeoJSON(w http.ResponseWriter, v any) error {
	writeJSONStatus(w, "application/geo+json", http.StatusOK, v)
	return nil
}

// importBodyError is the problem of a grid import's body that could not be
// read: too large, badly encoded, or not the GeoJSON asked for.
func (s *Server) importBodyError(err error) error {
	var maxErr *http.MaxBytesError
	var bodyErr *bodyEncodingError
	switch {
	case errors.As(err, &maxErr):
		return citygrid.Errorf(citygrid.CodeTooLarge, "request body is larger than %d bytes", s.cfg.MaxImportBytes)
	case errors.As(err, &bodyErr):
		return bodyErr.problem()
	}
	return invalid("%v", err)
}
