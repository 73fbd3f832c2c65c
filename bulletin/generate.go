package bulletin

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// Sources are what a bulletin is made from.
type Sources struct {
	// Stats computes the indicators (/v1/stats's).
	Stats    cases.StatsStore
	Hotspots HotspotSource
	// Campaigns, nil: the section is empty.
	Campaigns CampaignSource
	// Milestones, nil: the section says no project data is connected.
	Milestones MilestoneSource
	// Locator is the current grid map.
	Locator func() *grid.Locator
	// Serial runs the queries one after another (a store on one
	// transaction, in tests); else they run at once.
	Serial bool
}

// TopHotspots is how many cells a bulletin lists.
const TopHotspots = 5

// Generator makes bulletins.
type Generator struct {
	Sources
}

// Build computes the bulletin of kind p.Kind for s over p, as known at now
// (a period not over yet is counted up to now), in time zone tz. Revision,
// GeneratedBy and Reason are the caller's to set.
func (g *Generator) Build(ctx context.Context, s Scope, p Period, tz string, now time.Time) (*Bulletin, error) {
	r, err := Resolve(g.Locator(), s)
	if err != nil {
		return nil, err
	}
	prev := p.Prev()
	query := func(by cases.StatsBy, q Period, restrict cases.Restriction) cases.StatsQuery {
		return cases.StatsQuery{By: by, From: q.From, To: q.To, Now: now, TimeZone: tz, Restrict: restrict}
	}
	var (
		wg                      sync.WaitGroup
		mu                      sync.Mutex
		firstErr                error
		peers, peersPrev, units []cases.StatsRow
		top, lastTop            []CellCount
		campaigns               []CampaignLine
		milestones              []LateMilestone
	)
	run := func(f func() error) {
		if g.Serial {
			if err := f(); err != nil && firstErr == nil {
				firstErr = err
			}
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	// The ranking is over the whole district: peers are counted without
	// the scope's cut.
	run(func() (err error) { peers, err = g.Stats.Stats(ctx, query(r.PeerBy, p, cases.Restriction{})); return })
	run(func() (err error) {
		peersPrev, err = g.Stats.Stats(ctx, query(r.PeerBy, prev, cases.Restriction{}))
		return
	})
	if r.PeerBy != cases.ByUnit {
		run(func() (err error) { units, err = g.Stats.Stats(ctx, query(cases.ByUnit, p, r.Restrict)); return })
	}
	run(func() (err error) { top, err = g.Hotspots.TopCells(ctx, r.Restrict, p.From, p.To, TopHotspots); return })
	run(func() (err error) {
		lastTop, err = g.Hotspots.TopCells(ctx, r.Restrict, prev.From, prev.To, TopHotspots)
		return
	})
	if g.Campaigns != nil {
		run(func() (err error) {
			campaigns, err = g.Campaigns.CampaignProgress(ctx, r.Restrict, p.From, p.To, query("", p, r.Restrict).End(), tz)
			return
		})
	}
	if g.Milestones != nil {
		run(func() (err error) { milestones, err = g.Milestones.LateMilestones(ctx, s, p); return })
	}
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("bulletin %s %s %s: %w", p.Kind, s, p.Label, firstErr)
	}
	if r.PeerBy == cases.ByUnit {
		units = peers
	}

	b := &Bulletin{
		Kind: p.Kind, Scope: s.String(), ScopeName: r.Name, Period: p.Label,
		From: p.From.Format(time.RFC3339), To: p.To.Format(time.RFC3339), TimeZone: tz,
		Revision: 1, GeneratedAt: now.In(p.From.Location()).Format(time.RFC3339),
		AsOf: query("", p, cases.Restriction{}).End().In(p.From.Location()).Format(time.RFC3339),
	}
	if s.Kind == District {
		b.Summary, b.Previous = cases.Total(peers, ""), cases.Total(peersPrev, "")
	} else {
		b.Summary, b.Previous = row(peers, s.Code), row(peersPrev, s.Code)
	}
	b.Summary.Key, b.Previous.Key = s.String(), s.String()
	b.Change = change(b.Summary, b.Previous)
	b.Ranking, b.Rank = ranking(peers, peersPrev, s, r.PeerBy, g.Locator())

	// Hotspots: this period's top with last period's counts, and last
	// period's top with this period's.
	cells := make([]geo.Cell, 0, len(top)+len(lastTop))
	for _, c := range append(slices.Clone(top), lastTop...) {
		cells = append(cells, c.Cell)
	}
	var nowCounts, prevCounts map[geo.Cell]int
	run(func() (err error) {
		nowCounts, err = g.Hotspots.CountCells(ctx, r.Restrict, p.From, p.To, cells)
		return
	})
	run(func() (err error) {
		prevCounts, err = g.Hotspots.CountCells(ctx, r.Restrict, prev.From, prev.To, cells)
		return
	})
	wg.Wait()
	if firstErr != nil {
		return nil, fmt.Errorf("bulletin %s %s %s: %w", p.Kind, s, p.Label, firstErr)
	}
	inTop := map[geo.Cell]bool{}
	b.Hotspots.Top = []HotCell{}
	for _, c := range top {
		inTop[c.Cell] = true
		b.Hotspots.Top = append(b.Hotspots.Top, hotCell(c, nowCounts[c.Cell], prevCounts[c.Cell], g.Locator()))
	}
	b.Hotspots.LastPeriod = []HotCell{}
	for _, c := range lastTop {
		h := hotCell(c, nowCounts[c.Cell], prevCounts[c.Cell], g.Locator())
		cooled := !inTop[c.Cell] && h.Count < h.PreviousCount
		h.Cooled = &cooled
		b.Hotspots.LastPeriod = append(b.Hotspots.LastPeriod, h)
	}

	b.OverdueByUnit = []UnitOverdue{}
	for _, u := range units {
		if u.Overdue == 0 || r.PeerBy == cases.ByUnit && u.Key != s.Code {
			continue
		}
		b.OverdueByUnit = append(b.OverdueByUnit, UnitOverdue{Unit: u.Key, Name: unitName(g.Locator(), u.Key), Overdue: u.Overdue, OpenLate: u.Overdue - u.ClosedLate})
	}
	slices.SortStableFunc(b.OverdueByUnit, func(a, c UnitOverdue) int {
		return cmp.Or(cmp.Compare(c.Overdue, a.Overdue), cmp.Compare(a.Unit, c.Unit))
	})

	b.LateMilestones = MilestoneSection{Connected: g.Milestones != nil, Items: milestones}
	if b.LateMilestones.Items == nil {
		b.LateMilestones.Items = []LateMilestone{}
	}
	b.Campaigns = campaigns
	if b.Campaigns == nil {
		b.Campaigns = []CampaignLine{}
	}

	shade := map[string]float64{}
	switch s.Kind {
	case Street:
		shade[s.Code] = 1
	case District:
		most := 0
		for _, p := range peers {
			most = max(most, p.Received)
		}
		for _, p := range peers {
			if most > 0 {
				shade[p.Key] = float64(p.Received) / float64(most)
			}
		}
	}
	b.Map = drawMap(r.Streets, shade, b.Hotspots.Top)
	return b, nil
}

// row finds key's row; a group with nothing counted has none: zeros.
func row(rows []cases.StatsRow, key string) cases.StatsRow {
	for _, r := range rows {
		if r.Key == key {
			return r
		}
	}
	return cases.StatsRow{Key: key}
}

func change(now, before cases.StatsRow) Change {
	pp := func(a, b *float64) *float64 {
		if a == nil || b == nil {
			return nil
		}
		v := math.Round((*a-*b)*1000) / 10
		return &v
	}
	return Change{Received: now.Received - before.Received, Closed: now.Closed - before.Closed, Due: now.Due - before.Due,
		ClosureRatePP: pp(now.ClosureRate, before.ClosureRate), OnTimeRatePP: pp(now.OnTimeRate, before.OnTimeRate)}
}

// ranks places the rows with something due: on-time rate, then closure
// rate, best first; equal rates share a place.
func ranks(rows []cases.StatsRow) map[string]int {
	var ranked []cases.StatsRow
	for _, r := range rows {
		if r.Due > 0 && r.Key != "" {
			ranked = append(ranked, r)
		}
	}
	better := func(a, b cases.StatsRow) int {
		return cmp.Or(cmp.Compare(*b.OnTimeRate, *a.OnTimeRate), cmp.Compare(*b.ClosureRate, *a.ClosureRate))
	}
	slices.SortStableFunc(ranked, func(a, b cases.StatsRow) int { return cmp.Or(better(a, b), cmp.Compare(a.Key, b.Key)) })
	out := map[string]int{}
	for i, r := range ranked {
		if i > 0 && better(ranked[i-1], r) == 0 {
			out[r.Key] = out[ranked[i-1].Key]
		} else {
			out[r.Key] = i + 1
		}
	}
	return out
}

func ranking(rows, prevRows []cases.StatsRow, s Scope, by cases.StatsBy, l *grid.Locator) ([]RankRow, *Rank) {
	now, before := ranks(rows), ranks(prevRows)
	prevByKey := map[string]cases.StatsRow{}
	for _, r := range prevRows {
		prevByKey[r.Key] = r
	}
	out := []RankRow{}
	for _, r := range rows {
		if r.Key == "" {
			continue // cases of no street or unit: not a peer
		}
		rr := RankRow{StatsRow: r, Name: peerName(l, by, r.Key)}
		if v, ok := now[r.Key]; ok {
			rr.Rank = &v
		}
		if v, ok := before[r.Key]; ok {
			rr.PreviousRank = &v
		}
		if p, ok := prevByKey[r.Key]; ok && p.OnTimeRate != nil && r.OnTimeRate != nil {
			d := math.Round((*r.OnTimeRate-*p.OnTimeRate)*1000) / 10
			rr.OnTimeRatePPDiff = &d
		}
		out = append(out, rr)
	}
	slices.SortStableFunc(out, func(a, b RankRow) int {
		switch {
		case a.Rank != nil && b.Rank != nil:
			return cmp.Or(cmp.Compare(*a.Rank, *b.Rank), cmp.Compare(a.Key, b.Key))
		case a.Rank != nil:
			return -1
		case b.Rank != nil:
			return 1
		}
		return cmp.Compare(a.Key, b.Key)
	})
	if s.Kind == District {
		return out, nil
	}
	rk := &Rank{By: "on_time_rate", Of: len(now)}
	if v, ok := now[s.Code]; ok {
		rk.Position = &v
	}
	if v, ok := before[s.Code]; ok {
		rk.PreviousPosition = &v
	}
	return out, rk
}

func peerName(l *grid.Locator, by cases.StatsBy, key string) string {
	if by == cases.ByUnit {
		return unitName(l, key)
	}
	if g, ok := l.Grid(key); ok {
		return g.Name
	}
	return key
}

func unitName(l *grid.Locator, code string) string {
	if u, ok := l.Unit(code); ok && u.Name != "" {
		return u.Name
	}
	return code
}

func hotCell(c CellCount, now, before int, l *grid.Locator) HotCell {
	h := HotCell{H3: c.Cell, Grid: c.Grid, Name: c.Grid, Count: now, PreviousCount: before}
	if g, ok := l.Grid(c.Grid); ok {
		h.Name = g.Name
	}
	p := c.Cell.Center()
	h.Lng, h.Lat = round6(p[0]), round6(p[1])
	return h
}

func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// Percent writes a rate as a percentage with one decimal ("75.8%"), or
// "—" for none: how the printed page and the CSV show rates.
func Percent(r *float64) string {
	if r == nil {
		return "—"
	}
	return strconv.FormatFloat(math.Round(*r*1000)/10, 'f', 1, 64) + "%"
}
