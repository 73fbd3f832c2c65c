package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"

	"citygrid"
	"citygrid/access"
	"citygrid/analysis"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// caseCounter counts what a case listing holds over all its pages
// (postgres.CaseStore): numberMatched. A store without it leaves
// numberMatched out, as the standard allows.
type caseCounter interface {
	CountCases(ctx context.Context, f cases.Filter) (int, error)
}

// everywhere is the area of an items request without bbox: cases.Filter
// needs one, and the scope's restriction does the cutting.
var everywhere = orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}

// ogcPage is the members of an items reply.
type ogcPage struct {
	Type           string             `json:"type"`
	Features       []*geojson.Feature `json:"features"`
	TimeStamp      string             `json:"timeStamp"`
	NumberMatched  *int               `json:"numberMatched,omitempty"`
	NumberReturned int                `json:"numberReturned"`
	Links          []ogcLink          `json:"links"`
}

func (s *Server) newOGCPage(r *http.Request, mt string, feats []*geojson.Feature, matched *int) *ogcPage {
	if feats == nil {
		feats = []*geojson.Feature{}
	}
	self := ogcBase(r) + strings.TrimPrefix(r.URL.Path, "/ogc")
	q := r.URL.Query()
	return &ogcPage{Type: "FeatureCollection", Features: feats, TimeStamp: s.now().UTC().Format(time.RFC3339),
		NumberMatched: matched, NumberReturned: len(feats),
		Links: []ogcLink{
			{Href: self + withParam(q, "f", ""), Rel: "self", Type: mt, Title: "this page"},
			{Href: strings.TrimSuffix(self, "/items"), Rel: "collection", Type: mediaJSON, Title: "the collection"},
		}}
}

func (p *ogcPage) link(r *http.Request, rel, query string) {
	self := ogcBase(r) + strings.TrimPrefix(r.URL.Path, "/ogc")
	p.Links = append(p.Links, ogcLink{Href: self + query, Rel: rel, Type: mediaGeoJSON, Title: rel + " page"})
}

// handleOGCCaseItems serves the cases collection's items: the /v1/cases
// listing (newest first, the same filters and scope), paged by opaque
// cursors in next and prev links.
func (s *Server) handleOGCCaseItems(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := ogcParams(r, "bbox", "datetime", "limit", "cursor", "status", "category", "unit", "source", "grid"); err != nil {
		return err
	}
	mt, err := negotiate(r, true)
	if err != nil {
		return err
	}
	f := cases.Filter{Area: cases.Area{Bound: &everywhere}}
	if f.Area.Bound, err = ogcBBox(q.Get("bbox")); err != nil {
		return err
	} else if f.Area.Bound == nil {
		f.Area.Bound = &everywhere
	}
	p := caseFilterParams{Category: parsePrefixes(q.Get("category")), Unit: q.Get("unit"), Source: q.Get("source")}
	if v := q.Get("status"); v != "" {
		p.Status = strings.Split(v, ",")
	}
	if err := p.apply(&f); err != nil {
		return err
	}
	if f.From, f.To, err = ogcDatetime(q.Get("datetime")); err != nil {
		return err
	}
	if f.Limit, err = ogcLimit(q); err != nil {
		return err
	}
	var cur ogcCursor
	if v := q.Get("cursor"); v != "" {
		if cur, err = decodeOGCCursor(v); err != nil {
			return err
		}
		f.After, f.Before = cur.After, cur.Before
	}
	scope := s.scopeOf(r)
	f.Restrict = scope.Restriction()
	if code := q.Get("grid"); code != "" {
		// A property filter: the cases whose grid is this one, within the
		// scope's restriction (a grid beside the scope matches nothing).
		if err := grid.ValidateCode(code); err != nil {
			return invalid("grid: %v", err)
		}
		if scope.Grid(code) == access.Full {
			f.Restrict.Grids = []string{code}
		} else {
			f.Restrict.Grids = []string{}
		}
	}
	f.Now = s.now()
	view := s.caseView(r, f.Now)
	limit := f.Limit
	f.Limit = limit + 1 // one more tells whether there is another page
	found, _, err := s.cases.FindCases(r.Context(), f)
	if err != nil {
		return err
	}
	more := len(found) > limit
	if more && f.Before != nil {
		found = found[1:] // the extra one lies before the page
	} else if more {
		found = found[:limit]
	}
	var matched *int
	if c, ok := s.cases.(caseCounter); ok {
		n, err := c.CountCases(r.Context(), f)
		if err != nil {
			return err
		}
		matched = &n
	}
	feats := make([]*geojson.Feature, len(found))
	for i, c := range found {
		feats[i] = view.feature(c)
	}
	page := s.newOGCPage(r, mt, feats, matched)
	if len(found) > 0 {
		first, last := found[0], found[len(found)-1]
		if (f.Before == nil && more) || f.Before != nil {
			page.link(r, "next", withParam(q, "cursor", ogcCursor{After: &cases.Cursor{ReportedAt: last.ReportedAt, ID: last.ID}}.encode()))
		}
		if f.After != nil || (f.Before != nil && more) {
			page.link(r, "prev", withParam(q, "cursor", ogcCursor{Before: &cases.Cursor{ReportedAt: first.ReportedAt, ID: first.ID}}.encode()))
		}
	}
	return writeOGC(w, mt, page)
}

// handleOGCCaseItem serves one case, by the id of /v1/cases; a case beside
// the caller's scope answers as one that does not exist.
func (s *Server) handleOGCCaseItem(w http.ResponseWriter, r *http.Request) error {
	if err := ogcParams(r); err != nil {
		return err
	}
	mt, err := negotiate(r, true)
	if err != nil {
		return err
	}
	raw := chi.URLParam(r, "featureId")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return citygrid.Errorf(citygrid.CodeNotFound, "case %q not found", truncate(raw, 40))
	}
	c, err := s.visibleCase(r, id)
	if err != nil {
		return err
	}
	f := s.caseView(r, s.now()).feature(c)
	return writeOGC(w, mt, ogcFeature(r, f, "cases"))
}

// ogcFeature adds a single feature's links.
func ogcFeature(r *http.Request, f *geojson.Feature, collection string) map[string]any {
	coll := ogcBase(r) + "/collections/" + collection
	return map[string]any{
		"type": "Feature", "id": f.ID, "geometry": geojson.NewGeometry(f.Geometry), "properties": f.Properties,
		"links": []ogcLink{
			{Href: baseURL(r) + r.URL.Path, Rel: "self", Type: mediaGeoJSON, Title: "this feature"},
			{Href: coll, Rel: "collection", Type: mediaJSON, Title: "the collection"},
		},
	}
}

// caseTimeExtent returns the reported times of the oldest and the newest
// case the caller may see (nil when there is none), read as the listing
// reads them.
func (s *Server) caseTimeExtent(r *http.Request) (first, last *string, err error) {
	f := cases.Filter{Area: cases.Area{Bound: &everywhere}, Restrict: s.scopeOf(r).Restriction(), Limit: 1, Now: s.now()}
	newest, _, err := s.cases.FindCases(r.Context(), f)
	if err != nil || len(newest) == 0 {
		return nil, nil, err
	}
	f.Before = &cases.Cursor{ReportedAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)}
	oldest, _, err := s.cases.FindCases(r.Context(), f)
	if err != nil || len(oldest) == 0 {
		return nil, nil, err
	}
	a, b := oldest[0].ReportedAt.UTC().Format(time.RFC3339), newest[0].ReportedAt.UTC().Format(time.RFC3339)
	return &a, &b, nil
}

// handleOGCGridItems serves a grid level's items: /v1/grids?level= (the
// store's listing by code, the scope's grids and the outlines above
// them), paged by offset.
func (s *Server) handleOGCGridItems(w http.ResponseWriter, r *http.Request) error {
	level, err := ogcGridLevel(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := ogcParams(r, "bbox", "limit", "offset", "parent", "unit"); err != nil {
		return err
	}
	mt, err := negotiate(r, true)
	if err != nil {
		return err
	}
	f := grid.Filter{Level: level}
	if f.Bound, err = ogcBBox(q.Get("bbox")); err != nil {
		return err
	}
	if v := q.Get("parent"); v != "" {
		if err := grid.ValidateCode(v); err != nil {
			return invalid("parent: %v", err)
		}
		f.Parent = v
	}
	unit := q.Get("unit")
	if len(unit) > grid.MaxCodeLen {
		return invalid("unit: longer than %d bytes", grid.MaxCodeLen)
	}
	limit, err := ogcLimit(q)
	if err != nil {
		return err
	}
	offset, err := ogcOffset(q)
	if err != nil {
		return err
	}
	scope := s.scopeOf(r)
	f.Codes = scope.VisibleGrids()
	all, err := s.grids.FindGrids(r.Context(), f)
	if err != nil {
		return err
	}
	var feats []*geojson.Feature
	for _, g := range all {
		vis := scope.Grid(g.Code)
		if unit != "" && (vis != access.Full || g.Unit != unit) {
			continue // an outline shows no unit, so it never matches one
		}
		if vis == access.Outline {
			feats = append(feats, outlineFeature(g))
		} else {
			feats = append(feats, newGridFeature(g))
		}
	}
	return s.writeOffsetPage(w, r, mt, feats, offset, limit)
}

// writeOffsetPage writes the page of feats at offset, with next and prev
// links and numberMatched.
func (s *Server) writeOffsetPage(w http.ResponseWriter, r *http.Request, mt string, feats []*geojson.Feature, offset, limit int) error {
	n := len(feats)
	lo, hi := min(offset, n), min(offset+limit, n)
	page := s.newOGCPage(r, mt, feats[lo:hi], &n)
	q := r.URL.Query()
	if hi < n {
		page.link(r, "next", withParam(q, "offset", itoa(hi)))
	}
	if offset > 0 {
		prev := ""
		if p := max(0, min(offset, n)-limit); p > 0 {
			prev = itoa(p)
		}
		page.link(r, "prev", withParam(q, "offset", prev))
	}
	return writeOGC(w, mt, page)
}

func (s *Server) handleOGCGridItem(w http.ResponseWriter, r *http.Request) error {
	level, err := ogcGridLevel(r)
	if err != nil {
		return err
	}
	if err := ogcParams(r); err != nil {
		return err
	}
	mt, err := negotiate(r, true)
	if err != nil {
		return err
	}
	code := chi.URLParam(r, "featureId")
	notFound := citygrid.Errorf(citygrid.CodeNotFound, "grid %q not found in collection %s", truncate(code, 60), ogcGridPrefix+level.String())
	if grid.ValidateCode(code) != nil {
		return notFound
	}
	g, err := s.grids.FindGridByCode(r.Context(), code)
	if err != nil {
		return err
	}
	if g.Level != level {
		return notFound
	}
	f := newGridFeature(g)
	switch s.scopeOf(r).Grid(code) {
	case access.Absent:
		return access.Hidden("grid", code, fmt.Sprintf("grid %q not found", code))
	case access.Outline:
		f = outlineFeature(g)
	}
	return writeOGC(w, mt, ogcFeature(r, f, ogcGridPrefix+level.String()))
}

// hotspotFeatures computes the hotspots collection: /v1/hotspots with its
// defaults (resolution 9, k 1, FDR, the last 30 days) under the caller's
// scope, the cells with cases, in the study area's order.
func (s *Server) hotspotFeatures(r *http.Request) ([]*geojson.Feature, error) {
	p, err := parseHotspotParams(nil, s.now().UTC(), hotspotWindow)
	if err != nil {
		return nil, err
	}
	p.filter.Restriction = s.scopeOf(r).Restriction()
	a, err := s.analysis.Hotspots(analysis.Query{Res: p.res, K: p.k, Filter: p.filter, FDR: p.fdr})
	if err != nil {
		return nil, err
	}
	st := a.Study
	var out []*geojson.Feature
	for i, cell := range st.Cells {
		if a.Counts[i] == 0 {
			continue
		}
		f := geojson.NewFeature(orb.Polygon{cell.Boundary()})
		f.ID = cell.String()
		f.Properties = geojson.Properties{
			"h3": cell, "count": a.Counts[i], "density_km2": a.Counts[i] / (st.AreaM2[i] / 1e6),
			"gi_z": analysis.Finite(a.Z[i]), "gi_p": a.P[i], "gi_class": a.Classes[i],
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *Server) handleOGCHotspotItems(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := ogcParams(r, "bbox", "limit", "offset", "gi_class"); err != nil {
		return err
	}
	mt, err := negotiate(r, true)
	if err != nil {
		return err
	}
	b, err := ogcBBox(q.Get("bbox"))
	if err != nil {
		return err
	}
	limit, err := ogcLimit(q)
	if err != nil {
		return err
	}
	offset, err := ogcOffset(q)
	if err != nil {
		return err
	}
	var classes []string
	if v := q.Get("gi_class"); v != "" {
		classes = strings.Split(v, ",")
	}
	all, err := s.hotspotFeatures(r)
	if err != nil {
		return err
	}
	feats := all[:0:0]
	for _, f := range all {
		if classes != nil && !slices.Contains(classes, fmt.Sprint(f.Properties["gi_class"])) {
			continue
		}
		if b != nil && !polygonMeetsBound(f.Geometry.(orb.Polygon), *b) {
			continue
		}
		feats = append(feats, f)
	}
	return s.writeOffsetPage(w, r, mt, feats, offset, limit)
}

func (s *Server) handleOGCHotspotItem(w http.ResponseWriter, r *http.Request) error {
	if err := ogcParams(r); err != nil {
		return err
	}
	mt, err := negotiate(r, true)
	if err != nil {
		return err
	}
	id := chi.URLParam(r, "featureId")
	if _, err := geo.ParseCell(id); err == nil {
		all, err := s.hotspotFeatures(r)
		if err != nil {
			return err
		}
		for _, f := range all {
			if f.ID == id {
				return writeOGC(w, mt, ogcFeature(r, f, "hotspots"))
			}
		}
	}
	return citygrid.Errorf(citygrid.CodeNotFound, "hotspot cell %q not found (cells without cases in the window are not features)", truncate(id, 40))
}

// polygonMeetsBound reports whether a polygon's outer ring and a box
// share a point: a vertex inside the box, a corner of the box inside the
// ring, or crossing edges.
func polygonMeetsBound(p orb.Polygon, b orb.Bound) bool {
	if len(p) == 0 || !p.Bound().Intersects(b) {
		return false
	}
	ring := p[0]
	for _, pt := range ring {
		if b.Contains(pt) {
			return true
		}
	}
	box := b.ToRing()
	for _, c := range box {
		if planar.RingContains(ring, c) {
			return true
		}
	}
	for i := 0; i+1 < len(ring); i++ {
		for j := 0; j+1 < len(box); j++ {
			if segmentsCross(ring[i], ring[i+1], box[j], box[j+1]) {
				return true
			}
		}
	}
	return false
}

func segmentsCross(a, b, c, d orb.Point) bool {
	cross := func(o, p, q orb.Point) float64 { return (p[0]-o[0])*(q[1]-o[1]) - (p[1]-o[1])*(q[0]-o[0]) }
	d1, d2, d3, d4 := cross(c, d, a), cross(c, d, b), cross(a, b, c), cross(a, b, d)
	return (d1 > 0) != (d2 > 0) && (d3 > 0) != (d4 > 0)
}
