package httpapi

import (
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
	"github.com/paulmach/orb/geojson"

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
	Status   []string `json:"status"`
	Category string   `json:"category"`
	Unit     string   `json:"unit"`
	Source   string   `json:"source"`
	From     string   `json:"from"`
	To       string   `json:"to"`
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
	if p.Category != "" {
		if len(p.Category) > 32 || strings.IndexFunc(p.Category, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
		}) >= 0 {
			return invalid("category: %q is not a category code prefix", truncate(p.Category, 40))
		}
		f.Category = p.Category
	}
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
		t, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			return invalid("%s: %q is not an RFC 3339 time", name, truncate(raw, 40))
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
	if err := allowParams(q, "bbox", "near", "radius", "grid", "h3", "status", "category", "unit", "source", "from", "to", "overdue_now", "overdue", "limit", "cursor", "format"); err != nil {
		return err
	}
	var f cases.Filter
	if err := parseArea(q, &f.Area); err != nil {
		return err
	}
	p := caseFilterParams{Category: q.Get("category"), Unit: q.Get("unit"), Source: q.Get("source"), From: q.Get("from"), To: q.Get("to"), Cursor: q.Get("cursor")}
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
		if p.Limit, err = strconv.Atoi(v); err != nil || p.Limit == 0 {
			return invalid("limit: want 1 to %d", maxCaseLimit)
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
	if f.Area.Grid != "" {
		if _, err := s.grids.FindGridByCode(r.Context(), f.Area.Grid); err != nil {
			return err
		}
	}
	f.Now = s.now()
	limit := f.Limit
	f.Limit = limit + 1 // one more tells whether there is a next page
	found, dists, err := s.cases.FindCases(r.Context(), f)
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
		return writeCasesCSV(w, found, dists, f.Now, next)
	}
	fc := geojson.NewFeatureCollection()
	for i, c := range found {
		feat := newCaseFeature(c, f.Now)
		if f.Area.Near != nil {
			feat.Properties["distance_m"] = dists[i]
		}
		fc.Append(feat)
	}
	fc.ExtraMembers = geojson.Properties{"next": next}
	return writeGeoJSON(w, fc)
}

var csvColumns = []string{"id", "external_id", "source", "category", "title", "priority", "status", "grid", "unit", "h3",
	"lng", "lat", "reported_at", "due_at", "closed_at", "overdue_now", "version"}

func writeCasesCSV(w http.ResponseWriter, cases []*cases.Case, dists []float64, now time.Time, next *string) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	if next != nil {
		w.Header().Set("X-Next-Cursor", *next)
	}
	cw := csv.NewWriter(w)
	header := csvColumns
	if len(dists) > 0 {
		header = append(append([]string(nil), csvColumns...), "distance_m")
	}
	_ = cw.Write(header)
	for i, c := range cases {
		closed := ""
		if c.ClosedAt != nil {
			closed = c.ClosedAt.UTC().Format(time.RFC3339)
		}
		row := []string{strconv.FormatInt(c.ID, 10), c.ExternalID, c.Source, c.Category, c.Title, strconv.Itoa(c.Priority),
			string(c.Status), c.Grid, c.Unit, c.Cell.String(),
			strconv.FormatFloat(c.Location[0], 'f', -1, 64), strconv.FormatFloat(c.Location[1], 'f', -1, 64),
			c.ReportedAt.UTC().Format(time.RFC3339), c.DueAt.UTC().Format(time.RFC3339), closed,
			strconv.FormatBool(c.Overdue(now)), strconv.Itoa(c.Version)}
		if len(dists) > 0 {
			row = append(row, strconv.FormatFloat(dists[i], 'f', 2, 64))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	return nil
}
