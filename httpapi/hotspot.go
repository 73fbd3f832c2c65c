package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"citygrid/analysis"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/hotspot"
)

// hotspotParams are the parsed query parameters shared by both endpoints.
type hotspotParams struct {
	res, k int
	fdr    bool
	filter caseindex.Filter
}

func parseHotspotParams(q url.Values, now time.Time, defaultSpan time.Duration) (hotspotParams, error) {
	p := hotspotParams{res: analysis.DefaultRes, k: 1, fdr: true}
	var err error
	if v := q.Get("res"); v != "" {
		if p.res, err = parseInt(v, "res", analysis.MinRes, analysis.MaxRes); err != nil {
			return p, err
		}
	}
	if v := q.Get("k"); v != "" {
		if p.k, err = parseInt(v, "k", 1, analysis.MaxK); err != nil {
			return p, err
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
			t, err := parseTime(raw, name)
			if err != nil {
				return p, err
			}
			*dst = t
		}
	}
	if !f.From.Before(f.To) {
		return p, invalid("from must be before to")
	}
	fp := caseFilterParams{Category: parsePrefixes(q.Get("category")), Unit: q.Get("unit"), Source: q.Get("source")}
	if v := q.Get("status"); v != "" {
		fp.Status = strings.Split(v, ",")
	}
	var cf cases.Filter
	if err := fp.apply(&cf); err != nil {
		return p, err
	}
	f.Categories, f.Statuses, f.Source, f.Unit = cf.Categories, cf.Statuses, cf.Source, cf.Unit
	return p, nil
}

func (p hotspotParams) echo() map[string]any {
	f := p.filter
	out := map[string]any{"from": f.From.UTC().Format(time.RFC3339), "to": f.To.UTC().Format(time.RFC3339)}
	if len(f.Categories) > 0 {
		out["category"] = f.Categories
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
// after the false-discovery-rate correction. Under a scope the counts are
// the scope's cases and, when it names grids, the study area is the cells
// whose centre lies in them (analysis.Study): a street's planner compares
// its street's cells with each other, not with the district's it cannot
// see. The comparison period is cut alike (its filter is the period's).
func (s *Server) handleHotspots(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "res", "k", "fdr", "from", "to", "category", "status", "source", "unit", "include_zero", "compare_from", "compare_to"); err != nil {
		return err
	}
	p, err := parseHotspotParams(q, s.now().UTC(), 30*24*time.Hour)
	if err != nil {
		return err
	}
	p.filter.Restriction = s.scopeOf(r).Restriction()
	includeZero, err := parseBool(q.Get("include_zero"), "include_zero")
	if err != nil {
		return err
	}
	var compare *caseindex.Filter
	if q.Get("compare_from") != "" || q.Get("compare_to") != "" {
		cf := p.filter
		for name, dst := range map[string]*time.Time{"compare_from": &cf.From, "compare_to": &cf.To} {
			if q.Get(name) == "" {
				return invalid("%s is missing: give both compare_from and compare_to as RFC 3339 times", name)
			}
			t, err := parseTime(q.Get(name), name)
			if err != nil {
				return err
			}
			*dst = t
		}
		if !cf.From.Before(cf.To) {
			return invalid("compare_from must be before compare_to")
		}
		if cf.From.Before(p.filter.To) && p.filter.From.Before(cf.To) {
			// The cases of the overlap would be on both sides, and the
			// change would hide what it measures.
			return invalid("the comparison period %s – %s overlaps the period %s – %s: compare with one that ends by from or starts at to",
				cf.From.UTC().Format(time.RFC3339), cf.To.UTC().Format(time.RFC3339), p.filter.From.UTC().Format(time.RFC3339), p.filter.To.UTC().Format(time.RFC3339))
		}
		compare = &cf
	}
	a, err := s.analysis.Hotspots(analysis.Query{Res: p.res, K: p.k, Filter: p.filter, FDR: p.fdr})
	if err != nil {
		return err
	}
	st := a.Study
	var previous []float64
	days := p.filter.To.Sub(p.filter.From).Hours() / 24
	prevDays, perDay := 0.0, false
	if compare != nil {
		previous = s.analysis.Count(st, *compare)
		// Periods of unequal length (a month against the one before) are
		// compared per day: raw counts would show the longer one busier.
		prevDays = compare.To.Sub(compare.From).Hours() / 24
		perDay = compare.To.Sub(compare.From) != p.filter.To.Sub(p.filter.From)
	}
	fc := geojson.NewFeatureCollection()
	for i, cell := range st.Cells {
		if a.Counts[i] == 0 && !includeZero && (previous == nil || previous[i] == 0) {
			continue
		}
		f := geojson.NewFeature(orb.Polygon{cell.Boundary()})
		f.ID = cell.String()
		km2 := st.AreaM2[i] / 1e6
		f.Properties = geojson.Properties{
			"h3": cell, "count": a.Counts[i], "density_km2": a.Counts[i] / km2,
			"smoothed": a.Smoothed[i], "smoothed_density_km2": a.Smoothed[i] / km2,
			"gi_z": analysis.Finite(a.Z[i]), "gi_p": a.P[i], "gi_class": a.Classes[i],
		}
		if previous != nil {
			f.Properties["previous_count"] = previous[i]
			f.Properties["change"] = a.Counts[i] - previous[i]
			if perDay {
				now, before := a.Counts[i]/days, previous[i]/prevDays
				f.Properties["count_per_day"], f.Properties["previous_per_day"], f.Properties["change"] = now, before, now-before
			}
		}
		fc.Append(f)
	}
	fc.ExtraMembers = geojson.Properties{
		"n": len(st.Cells), "mean": a.Mean, "sd": a.SD, "res": p.res, "k": p.k, "fdr": p.fdr,
		"filters": p.echo(), "total": analysis.Sum(a.Counts),
	}
	if compare != nil {
		normalised := "none"
		if perDay {
			normalised = "per_day" // change is in cases per day
		}
		fc.ExtraMembers["days"] = days
		fc.ExtraMembers["compare"] = map[string]any{"from": compare.From.UTC().Format(time.RFC3339), "to": compare.To.UTC().Format(time.RFC3339),
			"total": analysis.Sum(previous), "days": prevDays, "normalised": normalised}
	}
	return writeGeoJSON(w, fc)
}

// handleHotspotsEmerging serves GET /v1/hotspots/emerging: the space-time
// cube of counts per cell and step, Gi* per step, the Mann–Kendall trend of
// each cell's Gi* series, and the emerging hot spot category of each cell.
// Steps are whole calendar days, weeks or months in the district's time
// zone (analysis.Axis): the reply gives them, how the start was chosen, and
// the partial last step it dropped.
func (s *Server) handleHotspotsEmerging(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if err := allowParams(q, "res", "k", "fdr", "from", "to", "category", "status", "source", "unit", "step", "include_none"); err != nil {
		return err
	}
	p, err := parseHotspotParams(q, s.now().UTC(), 52*7*24*time.Hour)
	if err != nil {
		return err
	}
	p.filter.Restriction = s.scopeOf(r).Restriction()
	includeNone, err := parseBool(q.Get("include_none"), "include_none")
	if err != nil {
		return err
	}
	step := q.Get("step")
	if step == "" {
		step = analysis.StepWeek
	}
	loc, err := s.districtLocation(r)
	if err != nil {
		return err
	}
	aq := analysis.Query{Res: p.res, K: p.k, Filter: p.filter, FDR: p.fdr}
	axis, err := s.analysis.Axis(aq, step, loc, q.Get("from") != "")
	if err != nil {
		return err
	}
	e, err := s.analysis.Emerging(aq, axis)
	if err != nil {
		return err
	}
	starts := axis.Starts
	p.filter.From, p.filter.To = starts[0], axis.End
	st, cube := e.Study, e.Cube
	fc := geojson.NewFeatureCollection()
	tally := map[hotspot.Pattern]int{}
	for i, cell := range st.Cells {
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
			series[t] = analysis.Finite(cube.Z[t][i])
			total += e.Counts[t][i]
		}
		tr := cube.Trend[i]
		f.Properties = geojson.Properties{
			"h3": cell, "pattern": pat, "count": total,
			"trend_tau": analysis.Finite(tr.Tau), "trend_p": analysis.Finite(tr.P), "trend_z": analysis.Finite(tr.Z),
			"gi_z_series": series,
		}
		fc.Append(f)
	}
	// Step boundaries are written in the district's offset: they are its
	// midnights.
	stepStart := make([]string, len(starts))
	for i, t := range starts {
		stepStart[i] = t.Format(time.RFC3339)
	}
	var partial any
	if !axis.DroppedTo.IsZero() {
		partial = map[string]any{"from": axis.End.Format(time.RFC3339), "to": axis.DroppedTo.Format(time.RFC3339), "action": "dropped"}
	}
	fc.ExtraMembers = geojson.Properties{
		"n": len(st.Cells), "res": p.res, "k": p.k, "fdr": p.fdr, "step": step, "steps": stepStart,
		"timezone": loc.String(), "start": stepStart[0], "start_rule": axis.StartRule, "end": axis.End.Format(time.RFC3339),
		"partial_step": partial, "filters": p.echo(), "patterns": tally,
	}
	return writeGeoJSON(w, fc)
}

// districtLocation is the district's time zone: the working calendar's.
func (s *Server) districtLocation(r *http.Request) (*time.Location, error) {
	if s.cases == nil {
		return cases.DefaultCalendar().Location(), nil
	}
	cal, err := s.cases.Calendar(r.Context())
	if err != nil {
		return nil, err
	}
	return cal.Location(), nil
}
