package httpapi

import (
	"context"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
	"citygrid/hotspot"
	"citygrid/tiles"
)

// Bounds of hotspot requests.
const (
	minHotspotRes   = 7
	maxHotspotRes   = caseindex.MaxRes
	maxHotspotK     = 5
	minStudyCells   = 30
	maxEmergingStep = 260
)

// studyArea is the set of cells a hotspot analysis runs over: every cell at
// the resolution whose centre lies inside the district's top-level grids,
// with each cell's true area and its gridDisk(k) neighbours in the area.
type studyArea struct {
	cells  []geo.Cell
	pos    map[geo.Cell]int32
	areaM2 []float64
	nb     map[int]hotspot.Neighbours // by k
}

// studyCache keeps study areas per locator (grids change → new locator) and
// resolution: they cost a polygon-to-cells and a ring per cell to build.
type studyCache struct {
	mu      sync.Mutex
	locator *grid.Locator
	byRes   map[int]*studyArea
}

func (s *Server) studyArea(res, k int) (*studyArea, error) {
	l, err := s.locator()
	if err != nil {
		return nil, err
	}
	c := &s.studies
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locator != l {
		c.locator, c.byRes = l, map[int]*studyArea{}
	}
	sa := c.byRes[res]
	if sa == nil {
		var mp orb.MultiPolygon
		for _, g := range l.TopLevel() {
			mp = append(mp, g.MultiPolygon()...)
		}
		cells, err := geo.PolygonCells(mp, res, geo.ContainCenter)
		if err != nil {
			return nil, err
		}
		sa = &studyArea{cells: cells, pos: make(map[geo.Cell]int32, len(cells)), areaM2: make([]float64, len(cells)), nb: map[int]hotspot.Neighbours{}}
		for i, cell := range cells {
			sa.pos[cell] = int32(i)
			sa.areaM2[i] = cell.AreaM2()
		}
		c.byRes[res] = sa
	}
	if _, ok := sa.nb[k]; !ok {
		nb := make(hotspot.Neighbours, len(sa.cells))
		for i, cell := range sa.cells {
			for _, n := range cell.Disk(k) {
				if j, ok := sa.pos[n]; ok && int(j) != i {
					nb[i] = append(nb[i], j)
				}
			}
		}
		sa.nb[k] = nb
	}
	return sa, nil
}

// hotspotParams are the parsed query parameters shared by both endpoints.
type hotspotParams struct {
	res, k int
	fdr    bool
	filter caseindex.Filter
}

func parseHotspotParams(q url.Values, now time.Time, defaultSpan time.Duration) (hotspotParams, error) {
	p := hotspotParams{res: 9, k: 1, fdr: true}
	var err error
	if v := q.Get("res"); v != "" {
		if p.res, err = strconv.Atoi(v); err != nil || p.res < minHotspotRes || p.res > maxHotspotRes {
			return p, invalid("res: want %d to %d", minHotspotRes, maxHotspotRes)
		}
	}
	if v := q.Get("k"); v != "" {
		if p.k, err = strconv.Atoi(v); err != nil || p.k < 1 || p.k > maxHotspotK {
			return p, invalid("k: want 1 to %d", maxHotspotK)
		}
	}
	if v := q.Get("fdr"); v != "" {
		if p.fdr, err = parseBool(v, "fdr"); err != nil {
			return p, err
		}
	}
	f := &p.filter
	f.To, f.From = now, now.Add(-defaultSpan)
	for name, dst := range map[string]*time.Time{"from": &f.From, "to": &f.To} {
		if raw := q.Get(name); raw != "" {
			t, err := time.Parse(time.RFC3339, raw)
			if err != nil {
				return p, invalid("%s: %q is not an RFC 3339 time", name, truncate(raw, 40))
			}
			*dst = t
		}
	}
	if !f.From.Before(f.To) {
		return p, invalid("from must be before to")
	}
	fp := caseFilterParams{Category: q.Get("category"), Unit: q.Get("unit"), Source: q.Get("source")}
	if v := q.Get("status"); v != "" {
		fp.Status = strings.Split(v, ",")
	}
	var cf cases.Filter
	if err := fp.apply(&cf); err != nil {
		return p, err
	}
	f.Category, f.Statuses, f.Source, f.Unit = cf.Category, cf.Statuses, cf.Source, cf.Unit
	return p, nil
}

func (p hotspotParams) echo() map[string]any {
	f := p.filter
	out := map[string]any{"from": f.From.UTC().Format(time.RFC3339), "to": f.To.UTC().Format(time.RFC3339)}
	if f.Category != "" {
		out["category"] = f.Category
	}
	if len(f.Statuses) > 0 {
		out["status"] = f.Statuses
	}
	if f.Source != "" {
		out["source"] = f.Source
	}
	if f.Unit != "" {
		out["unit"] = f.Unit
	}
	return out
}

// handleHotspots serves GET /v1/hotspots: counts, density, smoothed
// density and Getis-Ord Gi* per H3 cell of the study area, with classes
// after the false-discovery-rate correction.
func (s *Server) handleHotspots(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "res", "k", "fdr", "from", "to", "category", "status", "source", "unit", "include_zero", "compare_from", "compare_to"); err != nil {
		return err
	}
	p, err := parseHotspotParams(q, s.now().UTC(), 30*24*time.Hour)
	if err != nil {
		return err
	}
	includeZero, err := parseBool(q.Get("include_zero"), "include_zero")
	if err != nil {
		return err
	}
	var compare *caseindex.Filter
	if q.Get("compare_from") != "" || q.Get("compare_to") != "" {
		cf := p.filter
		for name, dst := range map[string]*time.Time{"compare_from": &cf.From, "compare_to": &cf.To} {
			t, err := time.Parse(time.RFC3339, q.Get(name))
			if err != nil {
				return invalid("%s: give both compare_from and compare_to as RFC 3339 times", name)
			}
			*dst = t
		}
		if !cf.From.Before(cf.To) {
			return invalid("compare_from must be before compare_to")
		}
		compare = &cf
	}
	a, err := s.analyseHotspots(p.res, p.k, p.filter, p.fdr)
	if err != nil {
		return err
	}
	sa, counts, z, pv, classes, smoothed := a.study, a.counts, a.z, a.p, a.classes, a.smoothed
	var previous []float64
	if compare != nil {
		previous = make([]float64, len(sa.cells))
		s.caseIndex.Count(*compare, p.res, sa.pos, previous)
	}
	mean, sd := meanSD(counts)
	fc := geojson.NewFeatureCollection()
	for i, cell := range sa.cells {
		if counts[i] == 0 && !includeZero && (previous == nil || previous[i] == 0) {
			continue
		}
		f := geojson.NewFeature(orb.Polygon{cell.Boundary()})
		f.ID = cell.String()
		km2 := sa.areaM2[i] / 1e6
		f.Properties = geojson.Properties{
			"h3": cell, "count": counts[i], "density_km2": counts[i] / km2,
			"smoothed": smoothed[i], "smoothed_density_km2": smoothed[i] / km2,
			"gi_z": finite(z[i]), "gi_p": pv[i], "gi_class": classes[i],
		}
		if previous != nil {
			f.Properties["previous_count"] = previous[i]
			f.Properties["change"] = counts[i] - previous[i]
		}
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{
		"n": len(sa.cells), "mean": mean, "sd": sd, "res": p.res, "k": p.k, "fdr": p.fdr,
		"filters": p.echo(), "total": sum(counts),
	}
	if compare != nil {
		fc.ExtraMembers["compare"] = map[string]any{"from": compare.From.UTC().Format(time.RFC3339), "to": compare.To.UTC().Format(time.RFC3339), "total": sum(previous)}
	}
	return writeGeoJSON(w, fc)
}

// hotspotAnalysis is Gi* over the study area for one resolution, k and
// filter.
type hotspotAnalysis struct {
	study    *studyArea
	counts   []float64
	z, p     []float64
	classes  []hotspot.Class
	smoothed []float64
}

func (s *Server) analyseHotspots(res, k int, f caseindex.Filter, fdr bool) (*hotspotAnalysis, error) {
	sa, err := s.studyArea(res, k)
	if err != nil {
		return nil, err
	}
	if len(sa.cells) < minStudyCells {
		return nil, invalid("the study area has %d cells at resolution %d; at least %d are needed for the statistics to mean anything", len(sa.cells), res, minStudyCells)
	}
	a := &hotspotAnalysis{study: sa, counts: make([]float64, len(sa.cells))}
	s.caseIndex.Count(f, res, sa.pos, a.counts)
	nb := sa.nb[k]
	if a.z, err = hotspot.GiStar(a.counts, nb); err != nil {
		return nil, invalid("%v", err)
	}
	a.p = make([]float64, len(a.z))
	for i, v := range a.z {
		a.p[i] = hotspot.PValueTwoSided(v)
	}
	a.classes = hotspot.Classify(a.z, a.p, fdr)
	a.smoothed = hotspot.SmoothedMean(a.counts, nb)
	return a, nil
}

// handleHotspotsEmerging serves GET /v1/hotspots/emerging: the space-time
// cube of counts per cell and step, Gi* per step, the Mann–Kendall trend of
// each cell's Gi* series, and the emerging hot spot category of each cell.
func (s *Server) handleHotspotsEmerging(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "res", "k", "fdr", "from", "to", "category", "status", "source", "unit", "step", "include_none"); err != nil {
		return err
	}
	p, err := parseHotspotParams(q, s.now().UTC(), 52*7*24*time.Hour)
	if err != nil {
		return err
	}
	includeNone, err := parseBool(q.Get("include_none"), "include_none")
	if err != nil {
		return err
	}
	step := q.Get("step")
	if step == "" {
		step = "week"
	}
	starts, err := stepStarts(p.filter.From, p.filter.To, step)
	if err != nil {
		return err
	}
	sa, err := s.studyArea(p.res, p.k)
	if err != nil {
		return err
	}
	if len(sa.cells) < minStudyCells {
		return invalid("the study area has %d cells at resolution %d; at least %d are needed", len(sa.cells), p.res, minStudyCells)
	}
	counts := make([][]float64, len(starts))
	for i := range counts {
		counts[i] = make([]float64, len(sa.cells))
	}
	s.caseIndex.CountSteps(p.filter, p.res, sa.pos, starts, counts)
	cube, err := hotspot.EmergingCube(counts, sa.nb[p.k], p.fdr)
	if err != nil {
		return invalid("%v", err)
	}
	fc := geojson.NewFeatureCollection()
	tally := map[hotspot.Pattern]int{}
	for i, cell := range sa.cells {
		pat := cube.Pattern[i]
		tally[pat]++
		if pat == "no_pattern" && !includeNone {
			continue
		}
		f := geojson.NewFeature(orb.Polygon{cell.Boundary()})
		f.ID = cell.String()
		series := make([]float64, len(starts))
		total := 0.0
		for t := range starts {
			series[t] = finite(cube.Z[t][i])
			total += counts[t][i]
		}
		tr := cube.Trend[i]
		f.Properties = geojson.Properties{
			"h3": cell, "pattern": pat, "count": total,
			"trend_tau": finite(tr.Tau), "trend_p": finite(tr.P), "trend_z": finite(tr.Z),
			"gi_z_series": series,
		}
		fc.Append(f)
	}
	stepStart := make([]string, len(starts))
	for i, t := range starts {
		stepStart[i] = t.UTC().Format(time.RFC3339)
	}
	fc.ExtraMembers = geojson.Properties{
		"n": len(sa.cells), "res": p.res, "k": p.k, "fdr": p.fdr, "step": step, "steps": stepStart,
		"filters": p.echo(), "patterns": tally,
	}
	return writeGeoJSON(w, fc)
}

// stepStarts cuts [from, to) into day, week or month steps.
func stepStarts(from, to time.Time, step string) ([]time.Time, error) {
	var next func(time.Time) time.Time
	switch step {
	case "day":
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 1) }
	case "week":
		next = func(t time.Time) time.Time { return t.AddDate(0, 0, 7) }
	case "month":
		next = func(t time.Time) time.Time { return t.AddDate(0, 1, 0) }
	default:
		return nil, invalid("step: want day, week or month")
	}
	var out []time.Time
	for t := from; t.Before(to); t = next(t) {
		out = append(out, t)
		if len(out) > maxEmergingStep {
			return nil, invalid("%s steps from %s to %s make more than %d slices: choose a longer step or a shorter period", step, from.Format(time.DateOnly), to.Format(time.DateOnly), maxEmergingStep)
		}
	}
	if len(out) < 3 {
		return nil, invalid("the period holds %d %s steps; the trend test needs at least 3 (ArcGIS asks for 10)", len(out), step)
	}
	return out, nil
}

func meanSD(x []float64) (float64, float64) {
	if len(x) == 0 {
		return 0, 0
	}
	m := sum(x) / float64(len(x))
	v := 0.0
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, math.Sqrt(v / float64(len(x)))
}

func sum(x []float64) float64 {
	t := 0.0
	for _, a := range x {
		t += a
	}
	return t
}

// finite maps NaN and ±Inf to 0, which JSON cannot carry.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// hotspotCells is the analysis as the hotspot tiles want it.
func (s *Server) hotspotCells(_ context.Context, q tiles.HotspotQuery) ([]tiles.HotCell, error) {
	a, err := s.analyseHotspots(q.Res, q.K, q.Filter, q.FDR)
	if err != nil {
		return nil, err
	}
	out := make([]tiles.HotCell, len(a.study.cells))
	for i, c := range a.study.cells {
		out[i] = tiles.HotCell{Cell: c, Count: a.counts[i], DensityKM2: a.counts[i] / (a.study.areaM2[i] / 1e6), GiZ: finite(a.z[i]), Class: string(a.classes[i])}
	}
	return out, nil
}
