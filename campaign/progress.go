package campaign

import (
	"context"
	"time"

	"citygrid/cases"
)

// Progress is where a campaign stands at AsOf: the indicators of its cases
// over its period so far (cases.StatsRow, /v1/stats's), its inspection
// list, and the target's measure.
type Progress struct {
	AsOf  time.Time      `json:"as_of"`
	Cases cases.StatsRow `json:"cases"`
	Sites SiteCounts     `json:"sites"`
	// Value is the target's measure: the on-time rate of the campaign's
	// due cases, or the share of its sites inspected; nil while there is
	// nothing to measure.
	Value *float64 `json:"value"`
	Met   bool     `json:"met"`
}

// ProgressOf computes k's progress at asOf, counting the cases of r (a
// caller's scope or a bulletin's) in time zone tz.
func ProgressOf(ctx context.Context, stats cases.StatsStore, store Store, k *Campaign, r cases.Restriction, asOf time.Time, tz string) (*Progress, error) {
	rows, err := stats.Stats(ctx, cases.StatsQuery{By: cases.ByCategory, From: k.StartsAt, To: k.EndsAt, Now: asOf, TimeZone: tz,
		Restrict: r, Campaign: k.ID})
	if err != nil {
		return nil, err
	}
	p := &Progress{AsOf: asOf, Cases: cases.Total(rows, "")}
	if p.Sites, err = store.SiteCounts(ctx, k.ID, asOf); err != nil {
		return nil, err
	}
	switch k.Target.Kind {
	case TargetOnTimeRate:
		p.Value = p.Cases.OnTimeRate
	case TargetInspectSites:
		if p.Sites.Total > 0 {
			v := float64(p.Sites.Inspected) / float64(p.Sites.Total)
			p.Value = &v
		}
	}
	p.Met = p.Value != nil && *p.Value >= k.Target.Value
	return p, nil
}
