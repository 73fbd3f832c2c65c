package campaign

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// TargetKind names what a campaign aims at.
type TargetKind string

const (
	// TargetOnTimeRate: close at least Value (0–1) of the campaign's due
	// cases on time (按期结案率).
	TargetOnTimeRate TargetKind = "on_time_rate"
	// TargetInspectSites: inspect at least Value (0–1) of the sites of the
	// inspection list.
	TargetInspectSites TargetKind = "inspect_sites"
)

// Target is a campaign's aim.
type Target struct {
	Kind  TargetKind `json:"kind"`
	Value float64    `json:"value"`
}

// Limits of a campaign.
const (
	MaxNameLen    = 200
	MaxCategories = 50
	MaxGrids      = 200
	MaxPeriod     = 2 * 366 * 24 * time.Hour
)

// Campaign is a named drive over Categories (code prefixes; none: every
// category), an area and [StartsAt, EndsAt). The area is either Grids
// (their whole subtrees, by the grid a case has) or a polygon; Area is
// always the outline (the union of the grids), in WGS84 [lng, lat].
type Campaign struct {
	ID         int64
	Name       string
	Categories []string
	Grids      []string // nil: the area is a polygon
	Area       orb.MultiPolygon
	StartsAt   time.Time
	EndsAt     time.Time
	Target     Target
	CreatedBy  string
	CreatedAt  time.Time
}

// Active reports whether the campaign's period overlaps [from, to).
func (k *Campaign) Active(from, to time.Time) bool {
	return k.StartsAt.Before(to) && from.Before(k.EndsAt)
}

// Input is a campaign as a client sends it: exactly one of Grids and Area.
type Input struct {
	Name       string           `json:"name"`
	Categories []string         `json:"categories"`
	Grids      []string         `json:"grids"`
	Area       orb.MultiPolygon `json:"-"` // decoded by the caller from "area" (GeoJSON)
	StartsAt   time.Time        `json:"-"`
	EndsAt     time.Time        `json:"-"`
	Target     Target           `json:"target"`
}

// Prepare validates in against the grid map (codes must exist; a polygon
// must be valid and lie in the district) and returns the campaign to
// store, its Area filled from the grids when given by code. A failure is
// a *cases.FieldError naming the field.
func (in *Input) Prepare(l *grid.Locator) (*Campaign, error) {
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return nil, fieldErr("name", "required")
	case len(name) > MaxNameLen:
		return nil, fieldErr("name", "longer than %d bytes", MaxNameLen)
	}
	if len(in.Categories) > MaxCategories {
		return nil, fieldErr("categories", "%d prefixes, at most %d", len(in.Categories), MaxCategories)
	}
	for _, c := range in.Categories {
		if !isCode(c) {
			return nil, fieldErr("categories", "%q is not a category code prefix (letters and digits, such as E01)", trunc(c))
		}
	}
	switch {
	case in.StartsAt.IsZero():
		return nil, fieldErr("starts_at", "required")
	case in.EndsAt.IsZero():
		return nil, fieldErr("ends_at", "required")
	case !in.EndsAt.After(in.StartsAt):
		return nil, fieldErr("ends_at", "%s is not after starts_at %s: a campaign ends after it starts",
			in.EndsAt.Format(time.RFC3339), in.StartsAt.Format(time.RFC3339))
	case in.EndsAt.Sub(in.StartsAt) > MaxPeriod:
		return nil, fieldErr("ends_at", "a campaign runs at most two years")
	}
	switch in.Target.Kind {
	case TargetOnTimeRate, TargetInspectSites:
	default:
		return nil, fieldErr("target.kind", "want on_time_rate or inspect_sites")
	}
	if !(in.Target.Value > 0 && in.Target.Value <= 1) {
		return nil, fieldErr("target.value", "want a share above 0 and at most 1 (0.95 for 95%%)")
	}
	k := &Campaign{Name: name, Categories: in.Categories, StartsAt: in.StartsAt, EndsAt: in.EndsAt, Target: in.Target}
	if k.Categories == nil {
		k.Categories = []string{}
	}
	switch {
	case len(in.Grids) > 0 && len(in.Area) > 0:
		return nil, fieldErr("area", "give grids or area, not both")
	case len(in.Grids) > 0:
		if len(in.Grids) > MaxGrids {
			return nil, fieldErr("grids", "%d codes, at most %d", len(in.Grids), MaxGrids)
		}
		for _, code := range in.Grids {
			g, ok := l.Grid(code)
			if !ok {
				return nil, &cases.FieldError{Field: "grids", Message: fmt.Sprintf("no grid %q", trunc(code)), Code: citygrid.CodeUnprocessable}
			}
			k.Area = append(k.Area, g.MultiPolygon()...)
		}
		k.Grids = in.Grids
	case len(in.Area) > 0:
		if err := geo.ValidatePolygonal(in.Area); err != nil {
			return nil, fieldErr("area", "%v", err)
		}
		k.Area = in.Area
	default:
		return nil, fieldErr("grids", "a campaign needs an area: grids (codes) or area (a GeoJSON Polygon or MultiPolygon)")
	}
	return k, nil
}

// Subtree lists the codes of the grids under codes (themselves included),
// from the grid map: the grids whose cases a grid-coded campaign holds.
func Subtree(l *grid.Locator, codes []string) []string {
	roots := map[string]bool{}
	for _, c := range codes {
		roots[c] = true
	}
	out := []string{}
	for _, level := range grid.Levels {
		l.AtLevel(level, func(g *grid.Grid, _ orb.Bound) {
			for _, a := range l.Path(g.Code) {
				if roots[a.Code] {
					out = append(out, g.Code)
					return
				}
			}
		})
	}
	return out
}

// Store keeps campaigns and their sites.
type Store interface {
	CreateCampaign(ctx context.Context, k *Campaign, subtree []string, actor string) (*Campaign, error)
	FindCampaign(ctx context.Context, id int64) (*Campaign, error)
	FindCampaigns(ctx context.Context) ([]*Campaign, error)
	// AddSites stores sites in one transaction; a ref already on the list
	// is a conflict naming it, and nothing is stored.
	AddSites(ctx context.Context, campaignID int64, sites []Site) error
	FindSites(ctx context.Context, campaignID int64) ([]*Site, error)
	FindSite(ctx context.Context, campaignID int64, ref string) (*Site, error)
	// RecordInspection records a site's one inspection (a second is a
	// conflict), with the case a failure made.
	RecordInspection(ctx context.Context, campaignID int64, ref string, result Result, at time.Time, actor, note string, caseID *int64) error
	// SiteCounts counts the list as it stood at asOf.
	SiteCounts(ctx context.Context, campaignID int64, asOf time.Time) (SiteCounts, error)
}

func isCode(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

func fieldErr(field, format string, a ...any) *cases.FieldError {
	return &cases.FieldError{Field: field, Message: fmt.Sprintf(format, a...)}
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// SiteCounts counts an inspection list as it stood at an instant.
type SiteCounts struct {
	Total     int `json:"total"`
	Inspected int `json:"inspected"`
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
}
