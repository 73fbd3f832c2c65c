package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/geo"
	"citygrid/grid"
)

func (s *Server) registerLocateRoutes(r chi.Router) {
	r.Get("/locate", s.handle(s.handleLocateGet))
	r.Post("/locate", s.handle(s.handleLocatePost))
}

// maxLocatePoints bounds POST /v1/locate.
const maxLocatePoints = 10000

type unitJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type ruleJSON struct {
	Kind   string     `json:"kind"` // "category", "default" or "fallback"
	Level  grid.Level `json:"level"`
	Grid   string     `json:"grid"`
	Prefix string     `json:"prefix,omitempty"`
}

type nearbyJSON struct {
	gridRef
	DistanceM float64 `json:"distance_m"`
}

type locationJSON struct {
	Point             [2]float64   `json:"point"` // WGS84 [lng, lat]
	Input             *inputJSON   `json:"input,omitempty"`
	H3                geo.Cell     `json:"h3"`
	H3Res             int          `json:"h3_res"`
	InServiceArea     bool         `json:"in_service_area"` // false: a case here is refused
	Grid              *gridRef     `json:"grid"`
	Path              []gridRef    `json:"path"`
	Unit              *unitJSON    `json:"unit"`
	Rule              *ruleJSON    `json:"rule"`
	BoundaryDistanceM *float64     `json:"boundary_distance_m"`
	Alternatives      []nearbyJSON `json:"alternatives"`
	Nearest           *nearbyJSON  `json:"nearest,omitempty"`
	// InScope is false where the point's grid lies outside the caller's
	// scope: then its grid, owner and rule are not shown.
	InScope bool `json:"in_scope"`
	// GridVersion is the grid version that answered, when at= asked for
	// a time (issue 19).
	GridVersion string `json:"grid_version,omitempty"`
}

// cut shows of a location only what scope may see: the grid, owner and
// rule of a point in scope, the path's grids the scope shows (ancestors
// as outlines), alternatives and the nearest grid in scope.
func (out *locationJSON) cut(scope *access.Scope) {
	out.InScope = out.Grid != nil && scope.Grid(out.Grid.Code) == access.Full
	if scope.Whole() || scope.Grids() == nil {
		return
	}
	if !out.InScope {
		out.Grid, out.Unit, out.Rule, out.BoundaryDistanceM = nil, nil, nil, nil
	}
	path := out.Path[:0]
	for _, g := range out.Path {
		if scope.Grid(g.Code) != access.Absent {
			path = append(path, g)
		}
	}
	out.Path = path
	alts := out.Alternatives[:0]
	for _, a := range out.Alternatives {
		if scope.Grid(a.Code) == access.Full {
			alts = append(alts, a)
		}
	}
	out.Alternatives = alts
	if out.Nearest != nil && scope.Grid(out.Nearest.Code) != access.Full {
		out.Nearest = nil
	}
}

// inputJSON echoes a point given in another coordinate system.
type inputJSON struct {
	CRS   geo.CRS    `json:"crs"`
	Point [2]float64 `json:"point"`
}

func newLocationJSON(loc *grid.Location, res int, crs geo.CRS, in, p orb.Point) locationJSON {
	out := locationJSON{Point: [2]float64(p), H3: loc.Cell, H3Res: res, InServiceArea: loc.InServiceArea, Path: []gridRef{}, Alternatives: []nearbyJSON{}}
	if crs != geo.WGS84 {
		out.Input = &inputJSON{CRS: crs, Point: [2]float64(in)}
	}
	if loc.Grid != nil {
		ref := newGridRef(loc.Grid)
		out.Grid = &ref
		d := loc.BoundaryDistanceM
		out.BoundaryDistanceM = &d
	}
	for _, g := range loc.Path {
		out.Path = append(out.Path, newGridRef(g))
	}
	if o := loc.Owner; o != nil {
		out.Unit = &unitJSON{Code: o.Unit.Code, Name: o.Unit.Name, Kind: o.Unit.Kind}
		out.Rule = &ruleJSON{Kind: o.Rule, Level: o.Level, Grid: o.Grid, Prefix: o.Prefix}
	}
	for _, a := range loc.Alternatives {
		out.Alternatives = append(out.Alternatives, nearbyJSON{gridRef: newGridRef(a.Grid), DistanceM: a.DistanceM})
	}
	if n := loc.Nearest; n != nil {
		out.Nearest = &nearbyJSON{gridRef: newGridRef(n.Grid), DistanceM: n.DistanceM}
	}
	return out
}

func validCategory(c string) error {
	if len(c) > 64 || !utf8.ValidString(c) {
		return invalid("category must be at most 64 bytes of UTF-8")
	}
	return nil
}

func (s *Server) handleLocateGet(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "lng", "lat", "category", "crs", "at"); err != nil {
		return err
	}
	at, err := parseAt(q)
	if err != nil {
		return err
	}
	lng, err := parseFloat(q.Get("lng"), "lng")
	if err != nil {
		return err
	}
	lat, err := parseFloat(q.Get("lat"), "lat")
	if err != nil {
		return err
	}
	crs, err := geo.ParseCRS(q.Get("crs"))
	if err != nil {
		return invalid("crs: %v", err)
	}
	category := q.Get("category")
	if err := validCategory(category); err != nil {
		return err
	}
	l, version, err := s.locatorFor(r.Context(), at)
	if err != nil {
		return err
	}
	out, err := s.locateOne(l, orb.Point{lng, lat}, crs, category, "")
	if err != nil {
		return err
	}
	out.GridVersion = version
	out.cut(s.scopeOf(r))
	s.metrics.located.Inc()
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) locateOne(l *grid.Locator, in orb.Point, crs geo.CRS, category, field string) (locationJSON, error) {
	if err := geo.ValidLonLat(in); err != nil {
		return locationJSON{}, invalid("%s%v", field, err)
	}
	p := geo.ToWGS84(in, crs)
	loc, err := l.Locate(p, category)
	if err != nil {
		return locationJSON{}, invalid("%s%v", field, err)
	}
	return newLocationJSON(loc, l.ReportRes(), crs, in, p), nil
}

type locateRequest struct {
	Points   [][]*float64 `json:"points"` // pointers: JSON null must not become 0
	Category string       `json:"category"`
	CRS      string       `json:"crs"`
	At       string       `json:"at"` // a time: the grids then in force (issue 19)
}

// handleLocatePost answers up to maxLocatePoints points in order. One bad
// point makes the whole request a 400 naming it: partial answers to a batch
// are easy to misalign.
func (s *Server) handleLocatePost(w http.ResponseWriter, r *http.Request) error {
	var req locateRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if len(req.Points) == 0 {
		return invalid("points is missing or empty")
	}
	if len(req.Points) > maxLocatePoints {
		return invalid("points: %d given, at most %d per request", len(req.Points), maxLocatePoints)
	}
	crs, err := geo.ParseCRS(req.CRS)
	if err != nil {
		return invalid("crs: %v", err)
	}
	if err := validCategory(req.Category); err != nil {
		return err
	}
	var at time.Time
	if req.At != "" {
		if at, err = parseTime(req.At, "at"); err != nil {
			return err
		}
	}
	l, version, err := s.locatorFor(r.Context(), at)
	if err != nil {
		return err
	}
	results := make([]locationJSON, len(req.Points))
	scope := s.scopeOf(r)
	for i, pt := range req.Points {
		if len(pt) != 2 {
			return invalid("points[%d]: want [lng, lat], got %d numbers", i, len(pt))
		}
		if pt[0] == nil || pt[1] == nil {
			return invalid("points[%d]: want [lng, lat], got null", i)
		}
		if results[i], err = s.locateOne(l, orb.Point{*pt[0], *pt[1]}, crs, req.Category, "points["+strconv.Itoa(i)+"]: "); err != nil {
			return err
		}
		results[i].cut(scope)
		results[i].GridVersion = version
	}
	s.metrics.located.Add(float64(len(req.Points)))
	return writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// locatorFor is the locator in force (zero at) or the one of the grids in
// force at at, with that version's id.
func (s *Server) locatorFor(ctx context.Context, at time.Time) (*grid.Locator, string, error) {
	if at.IsZero() {
		l, err := s.locator()
		return l, "", err
	}
	l, v, err := s.locatorAt(ctx, at)
	if err != nil {
		return nil, "", err
	}
	return l, strconv.FormatInt(v, 10), nil
}
