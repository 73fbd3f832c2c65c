package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// Hotspot is a planted concentration of cases: where the demo puts more
// problems than chance would, so that hotspot statistics have something
// real to find.
type Hotspot struct {
	Center   orb.Point
	SigmaM   float64 // spread of the cases around the centre, metres
	Category string  // the category that dominates there
}

// Hotspots are the demo's planted concentrations: a market street full of
// vendors, a construction area, a nightlife block with garbage, and so on.
var Hotspots = []Hotspot{
	{orb.Point{120.3655, 36.0890}, 120, "E0501"}, // vendors around a market
	{orb.Point{120.3555, 36.0790}, 150, "E0101"}, // exposed garbage near the old port
	{orb.Point{120.3950, 36.1020}, 180, "E0301"}, // illegal construction in a redevelopment zone
	{orb.Point{120.3650, 36.1150}, 120, "E0505"}, // bicycles at a metro station
	{orb.Point{120.4045, 36.0975}, 150, "E0502"}, // roadside stalls
	{orb.Point{120.3400, 36.1000}, 130, "C0104"}, // broken street lamps on an industrial road
}

// hotspotShare is the share of cases planted in hotspots; the rest fall
// uniformly over the district.
const hotspotShare = 0.35

var (
	sources       = []string{"patrol", "hotline", "app", "camera"}
	sourceWeights = []float64{0.45, 0.25, 0.2, 0.1}
)

// CaseGenerator makes realistic demo cases, deterministically for a seed.
type CaseGenerator struct {
	District orb.MultiPolygon
	Cats     *cases.Categories
	Cal      *cases.Calendar
	Loc      *grid.Locator
	Now      time.Time
	// Months of history the cases spread over.
	Months int
	rng    *rand.Rand
	leaves []string
	bound  orb.Bound
	prev   *cases.Case // the last case neither a duplicate nor rejected
}

// NewCaseGenerator prepares a generator.
func NewCaseGenerator(district orb.MultiPolygon, cats *cases.Categories, cal *cases.Calendar, loc *grid.Locator, now time.Time, seed uint64) *CaseGenerator {
	g := &CaseGenerator{District: district, Cats: cats, Cal: cal, Loc: loc, Now: now, Months: 6, rng: rand.New(rand.NewPCG(seed, 0x5eed)), bound: district.Bound()}
	for _, c := range cats.List() {
		if len(c.Code) == 5 { // leaves of the default table
			g.leaves = append(g.leaves, c.Code)
		}
	}
	if len(g.leaves) == 0 {
		for _, c := range cats.List() {
			g.leaves = append(g.leaves, c.Code)
		}
	}
	return g
}

// Case returns the i-th generated case, in its present state.
func (g *CaseGenerator) Case(i int) (*cases.Case, error) {
	r, err := g.Record(i)
	return r.Case, err
}

// Record returns the i-th generated case with its history: its handling
// played from the report to Now through the API's rules (see player). A
// few reports repeat the case before them and are merged into it.
// Generate in order: each case depends on the ones before.
func (g *CaseGenerator) Record(i int) (cases.Record, error) {
	if prev := g.prev; prev != nil && g.rng.Float64() < duplicateShare {
		return g.duplicate(i, prev)
	}
	var p orb.Point
	category := g.leaves[g.rng.IntN(len(g.leaves))]
	if g.rng.Float64() < hotspotShare {
		h := Hotspots[g.rng.IntN(len(Hotspots))]
		p = g.around(h.Center, h.SigmaM)
		if g.rng.Float64() < 0.7 {
			category = h.Category
		}
	} else {
		p = g.uniform()
	}
	c, err := g.prepare(i, p, category, g.reportTime())
	if err != nil {
		return cases.Record{}, err
	}
	pl := &player{g: g, c: c, t: c.ReportedAt}
	if g.rng.Float64() < rejectShare {
		pl.move(pl.after(pl.minutes(5, 120)), actorSupervisor, "不属于城市管理范围", cases.StatusRejected)
	} else {
		pl.handle()
	}
	if pl.err != nil {
		return cases.Record{}, pl.err
	}
	if c.Status != cases.StatusRejected {
		g.prev = c
	}
	return cases.Record{Case: c, Events: pl.events}, nil
}

// duplicate is a second report of prev, close by and a little later, that
// the supervision centre merges into it.
func (g *CaseGenerator) duplicate(i int, prev *cases.Case) (cases.Record, error) {
	reported := prev.ReportedAt.Add(10*time.Minute + time.Duration(g.rng.Int64N(int64(8*time.Hour))))
	if reported.After(g.Now) {
		reported = g.Now
	}
	c, err := g.prepare(i, g.around(prev.Location, 20), prev.Category, reported)
	if err != nil {
		return cases.Record{}, err
	}
	pl := &player{g: g, c: c, t: c.ReportedAt}
	into := int64(mergePlaceholder)
	if !pl.apply(pl.after(pl.minutes(5, 90)), actorSupervisor, "重复上报", cases.Update{MergeInto: &into}) {
		return cases.Record{Case: c, Events: pl.events}, pl.err
	}
	c.MergedInto = nil
	return cases.Record{Case: c, Events: pl.events, MergeInto: &cases.SourceKey{Source: prev.Source, ExternalID: prev.ExternalID}}, nil
}

// prepare makes the report, as the API would take it.
func (g *CaseGenerator) prepare(i int, p orb.Point, category string, reported time.Time) (*cases.Case, error) {
	loc := []float64{p[0], p[1]}
	prio := 1 + g.rng.IntN(5)
	in := cases.Input{
		Source:     pick(g.rng, sources, sourceWeights),
		ExternalID: fmt.Sprintf("demo-%07d", i),
		Category:   category,
		Title:      categoryTitle(g.Cats, category),
		Priority:   &prio,
		Location:   &loc,
		ReportedAt: &reported,
	}
	c, err := in.Prepare(g.Cats, g.Cal, g.Loc, g.Now)
	if err != nil {
		return nil, fmt.Errorf("demo case %d: %w", i, err)
	}
	c.Version, c.UpdatedAt = 1, c.ReportedAt
	return c, nil
}

// reportTime spreads reports over the months, mostly in the daytime.
func (g *CaseGenerator) reportTime() time.Time {
	span := time.Duration(g.Months) * 30 * 24 * time.Hour
	t := g.Now.Add(-time.Duration(g.rng.Int64N(int64(span))))
	local := t.In(time.FixedZone("CST", 8*3600))
	hour := 7 + g.rng.IntN(14) // 07:00 to 21:00
	day := time.Date(local.Year(), local.Month(), local.Day(), hour, g.rng.IntN(60), g.rng.IntN(60), 0, local.Location())
	if day.After(g.Now) {
		day = day.Add(-24 * time.Hour)
	}
	return day.UTC()
}

func (g *CaseGenerator) uniform() orb.Point {
	for {
		p := orb.Point{g.bound.Min[0] + g.rng.Float64()*(g.bound.Max[0]-g.bound.Min[0]), g.bound.Min[1] + g.rng.Float64()*(g.bound.Max[1]-g.bound.Min[1])}
		if geo.Covers(g.District, p) {
			return p
		}
	}
}

// around draws a point from a normal distribution around c, kept inside
// the district.
func (g *CaseGenerator) around(c orb.Point, sigmaM float64) orb.Point {
	for range 100 {
		dx, dy := g.rng.NormFloat64()*sigmaM, g.rng.NormFloat64()*sigmaM
		p := orb.Point{c[0] + dx/(111320*math.Cos(c[1]*math.Pi/180)), c[1] + dy/110540}
		if geo.Covers(g.District, p) {
			return p
		}
	}
	return g.uniform()
}

func pick(rng *rand.Rand, items []string, weights []float64) string {
	r := rng.Float64()
	for i, w := range weights {
		if r < w {
			return items[i]
		}
		r -= w
	}
	return items[len(items)-1]
}

func categoryTitle(cats *cases.Categories, code string) string {
	if c, ok := cats.Find(code); ok {
		return c.NameZH
	}
	return code
}
