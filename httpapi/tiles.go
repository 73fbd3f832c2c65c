package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"citygrid"
	"citygrid/access"
	"citygrid/analysis"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/tiles"
)

// Query parameters each tile layer takes.
var tileParams = map[string][]string{
	tiles.LayerGrids:     {"level", "at"}, // at: grid versions (issue 19)
	tiles.LayerCases:     {"status", "category", "unit", "source", "from", "to"},
	tiles.LayerHotspots:  {"status", "category", "unit", "source", "from", "to", "res", "k", "fdr"},
	tiles.LayerBattlemap: {"status", "category", "unit", "source", "from", "to", "res", "k", "fdr", "level"},
}

func (s *Server) registerTileRoutes(r chi.Router) {
	r.Get("/tiles", s.handle(s.handleTileCatalogue))
	r.Get("/tiles/{file}", s.handle(s.handleTileJSON))
	r.Get("/tiles/{layer}/{z}/{x}/{file}", s.handle(s.handleTile))
}

// parseTileParams validates and parses a tile request's filters; the
// second result is the canonical query string (sorted, validated only) for
// TileJSON templates.
func parseTileParams(layer string, q url.Values) (tiles.Params, string, error) {
	var p tiles.Params
	known, ok := tileParams[layer]
	if !ok {
		return p, "", citygrid.Errorf(citygrid.CodeNotFound, "no tile layer %q (layers: %s)", truncate(layer, 40), strings.Join(tiles.Layers, ", "))
	}
	if err := allowParams(q, known...); err != nil {
		return p, "", err
	}
	fp := caseFilterParams{Category: parsePrefixes(q.Get("category")), Unit: q.Get("unit"), Source: q.Get("source"), From: q.Get("from"), To: q.Get("to")}
	if v := q.Get("status"); v != "" {
		fp.Status = strings.Split(v, ",")
	}
	var cf cases.Filter
	if err := fp.apply(&cf); err != nil {
		return p, "", err
	}
	p.Filter = caseindex.Filter{Categories: cf.Categories, Statuses: cf.Statuses, Source: cf.Source, Unit: cf.Unit}
	if cf.From != nil {
		p.Filter.From = *cf.From
	}
	if cf.To != nil {
		p.Filter.To = *cf.To
	}
	if cf.From != nil && cf.To != nil && !cf.From.Before(*cf.To) {
		return p, "", invalid("from must be before to")
	}
	if v := q.Get("level"); v != "" {
		level, err := grid.ParseLevel(v)
		if err != nil {
			return p, "", invalid("level: %v", err)
		}
		p.Level = level
	}
	var err error
	if v := q.Get("res"); v != "" {
		if p.Res, err = parseInt(v, "res", analysis.MinRes, analysis.MaxRes); err != nil {
			return p, "", err
		}
	}
	if v := q.Get("k"); v != "" {
		if p.K, err = parseInt(v, "k", 1, analysis.MaxK); err != nil {
			return p, "", err
		}
	}
	if v := q.Get("fdr"); v != "" {
		fdr, err := parseBool(v, "fdr")
		if err != nil {
			return p, "", err
		}
		p.NoFDR = !fdr
	}
	return p, q.Encode(), nil
}

// parseTileCoord reads one of z, x, y: digits only, no sign or spaces.
func parseTileCoord(s, name string) (int, error) {
	if s == "" || len(s) > 9 || strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, invalid("tile %s: %q is not a whole number", name, truncate(s, 20))
	}
	return strconv.Atoi(s)
}

func (s *Server) handleTile(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	layer := chi.URLParam(r, "layer")
	file := chi.URLParam(r, "file")
	dot := strings.LastIndexByte(file, '.')
	ys, ext := file[:max(dot, 0)], file[dot+1:]
	if dot < 0 || (ext != "mvt" && ext != "pbf") {
		return citygrid.Errorf(citygrid.CodeNotFound, "tiles end in .mvt or .pbf: /tiles/{layer}/{z}/{x}/{y}.mvt")
	}
	p, _, err := parseTileParams(layer, r.URL.Query())
	if err != nil {
		return err
	}
	var zxy [3]int
	for i, part := range []struct{ s, name string }{{chi.URLParam(r, "z"), "z"}, {chi.URLParam(r, "x"), "x"}, {ys, "y"}} {
		if zxy[i], err = parseTileCoord(part.s, part.name); err != nil {
			return err
		}
	}
	t, err := geo.NewTile(zxy[0], zxy[1], zxy[2])
	if err != nil {
		return invalid("%v", err)
	}
	if v := r.URL.Query().Get("at"); v != "" { // grid versions (issue 19)
		at, err := parseTime(v, "at")
		if err != nil {
			return err
		}
		if p.Locator, _, err = s.locatorAt(r.Context(), at); err != nil {
			return err
		}
	}
	scope := s.scopeOf(r)
	p.Scope = scope
	enc, hit, err := s.tiles.Tile(r.Context(), layer, t, p)
	switch {
	case errors.Is(err, tiles.ErrNoGrids):
		return citygrid.Errorf(citygrid.CodeUnavailable, "%v", err)
	case errors.Is(err, tiles.ErrUnknownLayer):
		return citygrid.Errorf(citygrid.CodeNotFound, "%v", err)
	case err != nil:
		return err
	}
	h := w.Header()
	s.tileHeaders(h, layer, scope)
	h.Set("ETag", enc.ETag)
	h.Set("Vary", "Accept-Encoding, Authorization")
	if len(enc.Capped) > 0 {
		h.Set("X-Tile-Capped", strings.Join(enc.Capped, ","))
		for _, l := range enc.Capped {
			s.metrics.tileCapped.WithLabelValues(l).Inc()
		}
	}
	s.metrics.observeTile(layer, t.Z, hit, enc, time.Since(start))
	writeTile(w, r, enc)
	return nil
}

// tileHeaders sets what every tile route answers with: caching policy and
// CORS. A reply depends on the caller's credential (its scope): it varies
// on Authorization, and a scoped one (nil: none) is private, so that no
// shared cache hands one caller's part of the district to another (RFC
// 9111 §3.5 lets a shared cache reuse a reply to an authorised request
// only when it says public).
func (s *Server) tileHeaders(h http.Header, layer string, scope *access.Scope) {
	cc := s.cfg.TileCacheControl[layer]
	if cc == "" {
		cc = s.cfg.TileCacheControl["*"]
	}
	if scope != nil && !scope.Whole() {
		cc = privateCacheControl(cc)
	}
	h.Set("Cache-Control", cc)
	h.Add("Vary", "Authorization")
	if s.cfg.CORSOrigin != "" {
		h.Set("Access-Control-Allow-Origin", s.cfg.CORSOrigin)
		h.Set("Access-Control-Expose-Headers", "ETag, X-Tile-Capped")
	}
}

// privateCacheControl makes a configured Cache-Control private: "private"
// first, then the directives that still apply ("no-cache", "max-age"),
// without those for shared caches ("public", "s-maxage").
func privateCacheControl(cc string) string {
	if cc == "no-cache" { // the default: every scoped tile asks
		return "private, no-cache"
	}
	var b strings.Builder
	b.WriteString("private")
	for d := range strings.SplitSeq(cc, ",") {
		d = strings.TrimSpace(d)
		name, _, _ := strings.Cut(d, "=")
		switch strings.ToLower(name) {
		case "", "private", "public", "s-maxage", "proxy-revalidate":
			continue
		}
		b.WriteString(", ")
		b.WriteString(d)
	}
	return b.String()
}

// etagMatches applies If-None-Match's weak comparison to a list of tags.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether Accept-Encoding allows gzip (q > 0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") || strings.TrimSpace(coding) == "*" {
			q := strings.TrimSpace(params)
			return !(strings.HasPrefix(q, "q=0") && strings.Trim(strings.TrimPrefix(q, "q="), "0.") == "")
		}
	}
	return false
}

// baseURL is the scheme and host the client used, behind a proxy too.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

func (s *Server) handleTileJSON(w http.ResponseWriter, r *http.Request) error {
	layer, ok := strings.CutSuffix(chi.URLParam(r, "file"), ".json")
	if !ok {
		return citygrid.Errorf(citygrid.CodeNotFound, "TileJSON is at /tiles/{layer}.json")
	}
	_, query, err := parseTileParams(layer, r.URL.Query())
	if err != nil {
		return err
	}
	template := baseURL(r) + "/tiles/" + layer + "/{z}/{x}/{y}.mvt"
	if query != "" {
		template += "?" + query
	}
	scope := s.scopeOf(r)
	tj, err := s.tiles.TileJSON(layer, template, scope)
	if errors.Is(err, tiles.ErrNoGrids) {
		return citygrid.Errorf(citygrid.CodeUnavailable, "%v", err)
	}
	if err != nil {
		return err
	}
	s.tileHeaders(w.Header(), layer, scope)
	return writeJSON(w, http.StatusOK, tj)
}

func (s *Server) handleTileCatalogue(w http.ResponseWriter, r *http.Request) error {
	if err := allowParams(r.URL.Query()); err != nil {
		return err
	}
	// The zoom rules ride along, so that a client (the battle map) knows
	// what a tile at each zoom shows without restating them.
	type entry struct {
		Name     string   `json:"name"`
		TileJSON string   `json:"tilejson"`
		Tiles    string   `json:"tiles"`
		Params   []string `json:"params"`
		// cases: single points from PointZoom, H3 clusters below at
		// ClusterRes[z].
		PointZoom  *int  `json:"point_zoom,omitempty"`
		ClusterRes []int `json:"cluster_res,omitempty"`
		// grids: the levels a tile at each zoom shows by default.
		LevelsByZoom [][]grid.Level `json:"levels_by_zoom,omitempty"`
	}
	base := baseURL(r)
	opt := s.tiles.Options()
	out := make([]entry, 0, len(tiles.Layers))
	for _, l := range tiles.Layers {
		e := entry{Name: l, TileJSON: base + "/tiles/" + l + ".json", Tiles: base + "/tiles/" + l + "/{z}/{x}/{y}.mvt", Params: slices.Clone(tileParams[l])}
		switch l {
		case tiles.LayerCases:
			e.PointZoom = &opt.PointZoom
			for z := range opt.PointZoom {
				e.ClusterRes = append(e.ClusterRes, tiles.ClusterRes(uint32(z)))
			}
		case tiles.LayerGrids:
			for z := range geo.MaxZoom + 1 {
				e.LevelsByZoom = append(e.LevelsByZoom, tiles.LevelsAt(uint32(z)))
			}
		}
		out = append(out, e)
	}
	// The catalogue holds no case data (the cache's counters are the
	// whole cache's): the same for every caller.
	stats := s.tiles.CacheStats()
	s.tileHeaders(w.Header(), "*", nil)
	return writeJSON(w, http.StatusOK, map[string]any{
		"layers": out, "point_zoom": opt.PointZoom, "max_features": opt.MaxFeatures,
		"cache": map[string]any{"entries": stats.Entries, "bytes": stats.Bytes, "max_bytes": stats.MaxBytes, "hits": stats.Hits, "misses": stats.Misses},
	})
}

// writeTile sends an encoded tile: 304 when the client holds it (ETag),
// 204 when it is empty, else its bytes, gzipped for a client that takes
// them so.
func writeTile(w http.ResponseWriter, r *http.Request, enc *tiles.Encoded) {
	h := w.Header()
	switch {
	case etagMatches(r.Header.Get("If-None-Match"), enc.ETag):
		w.WriteHeader(http.StatusNotModified)
	case len(enc.Raw) == 0:
		w.WriteHeader(http.StatusNoContent)
	default:
		h.Set("Content-Type", "application/vnd.mapbox-vector-tile")
		body := enc.Raw
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			body = enc.Gzip
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
	}
}
