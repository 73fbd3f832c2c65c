package app

import (
	"context"
	"slices"
	"strconv"
	"time"

	"citygrid/bulletin"
	"citygrid/campaign"
	"citygrid/cases"
	"citygrid/grid"
)

// CampaignProgress gives bulletins the progress of campaigns (issue 18):
// it joins package campaign to package bulletin, which do not know each
// other.
type CampaignProgress struct {
	Campaigns campaign.Store
	Stats     cases.StatsStore
}

var _ bulletin.CampaignSource = CampaignProgress{}

// CampaignProgress implements bulletin.CampaignSource: the campaigns
// running in [from, to), as at asOf, counting the cases of r.
func (c CampaignProgress) CampaignProgress(ctx context.Context, r cases.Restriction, from, to, asOf time.Time, tz string) ([]bulletin.CampaignLine, error) {
	all, err := c.Campaigns.FindCampaigns(ctx)
	if err != nil {
		return nil, err
	}
	out := []bulletin.CampaignLine{}
	for _, k := range all {
		if !k.Active(from, to) {
			continue
		}
		p, err := campaign.ProgressOf(ctx, c.Stats, c.Campaigns, k, r, asOf, tz)
		if err != nil {
			return nil, err
		}
		// A street's or unit's bulletin leaves out the campaigns elsewhere:
		// none of its grids, none of its cases.
		restricted := r.Grids != nil || r.Unit != "" || r.Source != ""
		if restricted && p.Cases.Received+p.Cases.Filed+p.Cases.Due == 0 && !slices.ContainsFunc(k.Grids, func(g string) bool { return slices.Contains(r.Grids, g) }) {
			continue
		}
		out = append(out, bulletin.CampaignLine{
			ID: strconv.FormatInt(k.ID, 10), Name: k.Name, TargetKind: string(k.Target.Kind), TargetValue: k.Target.Value,
			StartsAt: k.StartsAt.Format(time.RFC3339), EndsAt: k.EndsAt.Format(time.RFC3339), Cases: p.Cases,
			Sites: bulletin.SiteCounts(p.Sites), Value: p.Value, Met: p.Met,
		})
	}
	return out, nil
}

// BulletinDeps are what bulletins are made from (issue 18).
type BulletinDeps struct {
	Cases     cases.Store // the calendar's time zone
	Stats     cases.StatsStore
	Hotspots  bulletin.HotspotSource
	Campaigns campaign.Store
	Store     bulletin.Store
	Locator   func() *grid.Locator
	// Milestones gives late project milestones; nil until the projects
	// store is connected (the section then says so).
	Milestones bulletin.MilestoneSource
	Now        func() time.Time
	// Serial: the stores share one transaction (tests).
	Serial bool
}

// NewBulletins wires the bulletin service, alike for the binary and the
// tests.
func NewBulletins(d BulletinDeps) *bulletin.Service {
	src := bulletin.Sources{Stats: d.Stats, Hotspots: d.Hotspots, Locator: d.Locator, Serial: d.Serial}
	if d.Campaigns != nil {
		src.Campaigns = CampaignProgress{Campaigns: d.Campaigns, Stats: d.Stats}
	}
	if d.Milestones != nil {
		src.Milestones = d.Milestones
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &bulletin.Service{
		Gen:   &bulletin.Generator{Sources: src},
		Store: d.Store,
		TimeZone: func(ctx context.Context) (*time.Location, error) {
			cal, err := d.Cases.Calendar(ctx)
			if err != nil {
				return nil, err
			}
			return time.LoadLocation(cal.TimeZone)
		},
		Now: d.Now,
	}
}
