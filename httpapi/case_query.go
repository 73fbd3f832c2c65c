package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"

	"citygrid/access"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// Limits of area queries.
const (
	defaultCaseLimit = 100
	maxCaseLimit     = 10000
	maxRadiusM       = 50000
	maxQueryCells    = 1000
	// maxPolygonKM2 refuses polygons larger than a city: an area query is
	// for a dispatcher's area, not for exporting the database.
	maxPolygonKM2 = 5000
)

// caseFilterParams are the filters shared by GET /v1/cases and POST
// /v1/cases/search.
type caseFilterParams struct {
	Status   []string   `json:"status"`
	Category prefixList `json:"category"`
	Unit     string     `json:"unit"`
	Source   string     `json:"source"`
	From     string     `json:"from"`
	To       string     `json:"to"`
	// OverdueNow keeps the cases overdue (true) or not (false) now; the
	// old name overdue is an alias, kept for existing clients.
	OverdueNow *bool  `json:"overdue_now"`
	Overdue    *bool  `json:"overdue"`
	Limit      int    `json:"limit"`
	Cursor     string `json:"cursor"`
}

func (p caseFilterParams) apply(f *cases.Filter) error {
	for _, raw := range p.Status {
		st, err := cases.ParseStatus(raw)
		if err != nil {
			return invalid("status: %v", err)
		}
		f.Statuses = append(f.Statuses, st)
	}
	if len(p.Category) > maxCategoryPrefixes {
		return invalid("category: %d prefixes, at most %d", len(p.Category), maxCategoryPrefixes)
	}
	for _, prefix := range p.Category {
		if prefix == "" {
			return invalid("category: an empty prefix in the list (prefixes are separated by single commas)")
		}
		if len(prefix) > 32 || strings.IndexFunc(prefix, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
		}) >= 0 {
			return invalid("category: %q is not a category code prefix (letters and digits, such as E01)%s", truncate(prefix, 40), plusHint(prefix))
		}
	}
	f.Categories = p.Category
	for name, v := range map[string]string{"unit": p.Unit, "source": p.Source} {
		if len(v) > grid.MaxCodeLen {
			return invalid("%s: longer than %d bytes", name, grid.MaxCodeLen)
		}
	}
	f.Unit, f.Source = p.Unit, p.Source
	for name, raw := range map[string]string{"from": p.From, "to": p.To} {
		if raw == "" {
			continue
		}
		t, err := parseTime(raw, name)
		if err != nil {
			return err
		}
		if name == "from" {
			f.From = &t
		} else {
			f.To = &t
		}
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return invalid("from must be before to")
	}
	f.OverdueNow = p.OverdueNow
	if p.Overdue != nil {
		if p.OverdueNow != nil && *p.OverdueNow != *p.Overdue {
			return invalid("overdue_now=%t and its alias overdue=%t disagree: give one", *p.OverdueNow, *p.Overdue)
		}
		f.OverdueNow = p.Overdue
	}
	f.Limit = defaultCaseLimit
	if p.Limit != 0 {
		if p.Limit < 1 || p.Limit > maxCaseLimit {
			return invalid("limit: want 1 to %d", maxCaseLimit)
		}
		f.Limit = p.Limit
	}
	if p.Cursor != "" {
		c, err := decodeCursor(p.Cursor, f.Area.Kind())
		if err != nil {
			return err
		}
		f.After = c
	}
	return nil
}

// maxCategoryPrefixes bounds a category filter's list.
const maxCategoryPrefixes = 100

// prefixList is a category filter: code prefixes, any of which a case's
// category may start with. A query gives them comma-separated, as status; a
// JSON body as an array, or as one string (comma-separated too).
type prefixList []string

// parsePrefixes reads a query's comma-separated list ("" for none).
func parsePrefixes(s string) prefixList {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (l *prefixList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = parsePrefixes(one)
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		kind := jsonValueKind(b)
		if kind == "array" {
			kind = "array holding a non-string"
		}
		return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[[]string]()}
	}
	*l = many
	return nil
}

// jsonValueKind names the kind of a JSON value, as encoding/json's type
// errors do.
func jsonValueKind(b []byte) string {
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
		return "value"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == '"':
		return "string"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == 'n':
		return "null"
	}
	return "number"
}

// cursorJSON is what an opaque cursor holds; the area kind keeps a cursor
// from being replayed against another kind of query.
type cursorJSON struct {
	cases.Cursor
	Kind string `json:"k"`
}

func encodeCursor(c cases.Cursor, kind string) string {
	b, _ := json.Marshal(cursorJSON{Cursor: c, Kind: kind})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, kind string) (*cases.Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursorJSON
	if err != nil || len(s) > 512 || json.Unmarshal(b, &c) != nil || c.ID <= 0 || c.Kind != kind {
		return nil, invalid("cursor is not one this query returned")
	}
	return &c.Cursor, nil
}

// handleCasesList serves GET /v1/cases with exactly one area parameter.
func (s *Server) handleCasesList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "bbox", "near", "radius", "grid", "h3", "status", "category", "unit", "source", "from", "to", "overdue_now", "overdue", "limit", "cursor", "format", "campaign"); err != nil {
		return err
	}
	var f cases.Filter
	if err := s.campaignFilter(r, q, &f); err != nil { // campaigns, issue 18
		return err
	}
	if f.Area.Kind() == "" {
		if err := parseArea(q, &f.Area); err != nil {
			return err
		}
	}
	p := caseFilterParams{Category: parsePrefixes(q.Get("category")), Unit: q.Get("unit"), Source: q.Get("source"), From: q.Get("from"), To: q.Get("to"), Cursor: q.Get("cursor")}
	if v := q.Get("status"); v != "" {
		p.Status = strings.Split(v, ",")
	}
	var err error
	for name, dst := range map[string]**bool{"overdue_now": &p.OverdueNow, "overdue": &p.Overdue} {
		if v := q.Get(name); v != "" {
			b, err := parseBool(v, name)
			if err != nil {
				return err
			}
			*dst = &b
		}
	}
	if v := q.Get("limit"); v != "" {
		if p.Limit, err = parseInt(v, "limit", 1, maxCaseLimit); err != nil {
			return err
		}
	}
	if err := p.apply(&f); err != nil {
		return err
	}
	format := q.Get("format")
	if format != "" && format != "geojson" && format != "csv" {
		return invalid("format: want geojson or csv")
	}
	return s.serveCases(w, r, f, format)
}

// searchRequest is the body of POST /v1/cases/search.
type searchRequest struct {
	Polygon json.RawMessage `json:"polygon"`
	caseFilterParams
	Format string `json:"format"`
}

func (s *Server) handleCasesSearch(w http.ResponseWriter, r *http.Request) error {
	var req searchRequest
	if err := decodeJSON(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		return err
	}
	if len(req.Polygon) == 0 {
		return invalid("polygon is missing")
	}
	g, err := geojson.UnmarshalGeometry(req.Polygon)
	if err != nil {
		return invalid("polygon: %v", err)
	}
	var mp orb.MultiPolygon
	switch v := g.Geometry().(type) {
	case orb.Polygon:
		mp = orb.MultiPolygon{v}
	case orb.MultiPolygon:
		mp = v
	default:
		return invalid("polygon: a %s, want Polygon or MultiPolygon", g.Type)
	}
	if err := geo.ValidatePolygonal(mp); err != nil {
		return invalid("polygon: %v", err)
	}
	if km2 := orbgeo.Area(mp) / 1e6; km2 > maxPolygonKM2 {
		return invalid("polygon: %.0f km² is larger than the %d km² an area query may cover", km2, maxPolygonKM2)
	}
	f := cases.Filter{Area: cases.Area{Polygon: mp}}
	if err := req.caseFilterParams.apply(&f); err != nil {
		return err
	}
	if req.Format != "" && req.Format != "geojson" && req.Format != "csv" {
		return invalid("format: want geojson or csv")
	}
	return s.serveCases(w, r, f, req.Format)
}

// parseArea reads the one area of a GET query.
func parseArea(q url.Values, a *cases.Area) error {
	var given []string
	for _, k := range []string{"bbox", "near", "grid", "h3"} {
		if q.Get(k) != "" {
			given = append(given, k)
		}
	}
	if len(given) != 1 {
		return invalid("give exactly one area: bbox, near (with radius), grid or h3 (or POST /v1/cases/search with a polygon); got %d", len(given))
	}
	if given[0] != "near" && q.Get("radius") != "" {
		return invalid("radius goes with near")
	}
	switch given[0] {
	case "bbox":
		b, err := parseBBox(q.Get("bbox"))
		if err != nil {
			return err
		}
		a.Bound = &b
	case "near":
		parts := strings.Split(q.Get("near"), ",")
		if len(parts) != 2 {
			return invalid("near must be lng,lat")
		}
		lng, err := parseFloat(strings.TrimSpace(parts[0]), "near lng")
		if err != nil {
			return err
		}
		lat, err := parseFloat(strings.TrimSpace(parts[1]), "near lat")
		if err != nil {
			return err
		}
		p := orb.Point{lng, lat}
		if err := geo.ValidLonLat(p); err != nil {
			return invalid("near: %v", err)
		}
		radius, err := parseFloat(q.Get("radius"), "radius")
		if err != nil {
			return err
		}
		if radius <= 0 || radius > maxRadiusM {
			return invalid("radius: want more than 0 and at most %d metres", maxRadiusM)
		}
		a.Near, a.RadiusM = &p, radius
	case "grid":
		code := q.Get("grid")
		if err := grid.ValidateCode(code); err != nil {
			return invalid("grid: %v", err)
		}
		a.Grid = code
	case "h3":
		parts := strings.Split(q.Get("h3"), ",")
		if len(parts) > maxQueryCells {
			return invalid("h3: at most %d cells", maxQueryCells)
		}
		for _, raw := range parts {
			c, err := geo.ParseCell(strings.TrimSpace(raw))
			if err != nil {
				return invalid("h3: %v", err)
			}
			a.Cells = append(a.Cells, c)
		}
	}
	return nil
}

// serveCases runs the query and writes a FeatureCollection (with the next
// page's cursor) or CSV.
func (s *Server) serveCases(w http.ResponseWriter, r *http.Request, f cases.Filter, format string) error {
	scope := s.scopeOf(r)
	if f.Area.Grid != "" {
		if _, err := s.grids.FindGridByCode(r.Context(), f.Area.Grid); err != nil {
			return err
		}
		if scope.Grid(f.Area.Grid) == access.Absent {
			return access.Hidden("grid", f.Area.Grid, fmt.Sprintf("grid %q not found", f.Area.Grid))
		}
	}
	f.Restrict = scope.Restriction()
	f.Now = s.now()
	view := s.caseView(r, f.Now)
	limit := f.Limit
	f.Limit = limit + 1 // one more tells whether there is a next page
	found, dists, err := s.reads.FindCases(r.Context(), f)
	if err != nil {
		return err
	}
	var next *string
	if len(found) > limit {
		found = found[:limit]
		last := found[len(found)-1]
		cur := cases.Cursor{ReportedAt: last.ReportedAt, ID: last.ID}
		if f.Area.Near != nil {
			cur = cases.Cursor{DistanceM: dists[limit-1], ID: last.ID}
		}
		c := encodeCursor(cur, f.Area.Kind())
		next = &c
	}
	if format == "csv" {
		return writeCasesCSV(w, view.redact(found), dists, f.Now, next)
	}
	fc := geojson.NewFeatureCollection()
	for i, c := range found {
		feat := view.feature(c)
		if f.Area.Near != nil {
			feat.Properties["distance_m"] = dists[i]
		}
		fc.Append(feat)
	}
	fc.ExtraMembers = geojson.Properties{"next": next}
	return writeGeoJSON(w, fc)
}
