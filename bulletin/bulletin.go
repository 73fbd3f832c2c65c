package bulletin

import (
	"context"
	"time"

	"citygrid/cases"
	"citygrid/geo"
)

// Bulletin is one generated bulletin, as stored and served. Every figure
// of Summary, Previous and Ranking is a cases.StatsRow of /v1/stats for the
// same period and cases.
type Bulletin struct {
	Kind        Kind   `json:"kind"`
	Scope       string `json:"scope"`
	ScopeName   string `json:"scope_name"`
	Period      string `json:"period"`
	From        string `json:"from"`
	To          string `json:"to"`
	TimeZone    string `json:"timezone"`
	Revision    int    `json:"revision"`
	Reason      string `json:"reason,omitempty"`
	GeneratedAt string `json:"generated_at"`
	GeneratedBy string `json:"generated_by"`
	// AsOf is the instant the figures are taken at (see cases.StatsQuery).
	AsOf string `json:"as_of"`

	// Summary is the scope's indicators in the period, Previous in the
	// period before, Change the difference (rates in percentage points).
	Summary  cases.StatsRow `json:"summary"`
	Previous cases.StatsRow `json:"previous"`
	Change   Change         `json:"change"`
	// Rank is the scope's place among its peers by on-time rate (nil for
	// the district, which has none); Ranking lists the peers: the streets
	// for the district and a street, the units for a unit.
	Rank    *Rank     `json:"rank"`
	Ranking []RankRow `json:"ranking"`

	Hotspots       Hotspots         `json:"hotspots"`
	OverdueByUnit  []UnitOverdue    `json:"overdue_by_unit"`
	LateMilestones MilestoneSection `json:"late_milestones"`
	Campaigns      []CampaignLine   `json:"campaigns"`
	Map            Map              `json:"map"`
}

// Change is this period against the one before.
type Change struct {
	Received int `json:"received"`
	Closed   int `json:"closed"`
	Due      int `json:"due"`
	// ClosureRatePP and OnTimeRatePP are differences in percentage points;
	// nil when either period has nothing due.
	ClosureRatePP *float64 `json:"closure_rate_pp"`
	OnTimeRatePP  *float64 `json:"on_time_rate_pp"`
}

// Rank is a place in the ranking (排名): 1 is the best on-time rate (ties
// broken by closure rate; equal rates share a place). Peers with nothing
// due are not ranked.
type Rank struct {
	By       string `json:"by"`
	Position *int   `json:"position"`
	Of       int    `json:"of"`
	// PreviousPosition is the place in the period before.
	PreviousPosition *int `json:"previous_position"`
}

// RankRow is one peer of the ranking.
type RankRow struct {
	cases.StatsRow
	Name             string   `json:"name"`
	Rank             *int     `json:"rank"`
	PreviousRank     *int     `json:"previous_rank"`
	OnTimeRatePPDiff *float64 `json:"on_time_rate_pp_change"`
}

// Hotspots are the H3 cells (resolution 9, the stored one) with the most
// reports in the period, and last period's top cells with this period's
// count: a cell has cooled when it left the top and had fewer reports.
type Hotspots struct {
	Top        []HotCell `json:"top"`
	LastPeriod []HotCell `json:"last_period"`
}

// HotCell is one cell's reports in the period and the one before.
type HotCell struct {
	H3            geo.Cell `json:"h3"`
	Grid          string   `json:"grid"`
	Name          string   `json:"name"`
	Count         int      `json:"count"`
	PreviousCount int      `json:"previous_count"`
	Cooled        *bool    `json:"cooled,omitempty"`
	Lng           float64  `json:"lng"`
	Lat           float64  `json:"lat"`
}

// UnitOverdue is a unit's cases that ran past their deadline in the
// period (cases.StatsRow Overdue), and of those the ones still open at
// its end (Overdue − ClosedLate: 超期未结).
type UnitOverdue struct {
	Unit     string `json:"unit"`
	Name     string `json:"name"`
	Overdue  int    `json:"overdue"`
	OpenLate int    `json:"open_late"`
}

// LateMilestone is a project milestone past its date and not done at the
// period's end (the projects issue's data).
type LateMilestone struct {
	Project     string    `json:"project"`
	ProjectName string    `json:"project_name"`
	Milestone   string    `json:"milestone"`
	DueAt       time.Time `json:"due_at"`
	Unit        string    `json:"unit"`
	DaysLate    int       `json:"days_late"`
}

// MilestoneSection is the late milestones, and whether a source of
// project data is connected at all (false: the section says so).
type MilestoneSection struct {
	Connected bool            `json:"connected"`
	Items     []LateMilestone `json:"items"`
}

// CampaignLine is a campaign's progress at the period's end.
type CampaignLine struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	TargetKind  string         `json:"target_kind"`
	TargetValue float64        `json:"target_value"`
	StartsAt    string         `json:"starts_at"`
	EndsAt      string         `json:"ends_at"`
	Cases       cases.StatsRow `json:"cases"`
	Sites       SiteCounts     `json:"sites"`
	// Value is the target's measure (the on-time rate, or the share of
	// sites inspected); nil when there is nothing to measure yet.
	Value *float64 `json:"value"`
	Met   bool     `json:"met"`
}

// SiteCounts counts an inspection list.
type SiteCounts struct {
	Total     int `json:"total"`
	Inspected int `json:"inspected"`
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
}

// CellCount is a cell's reports.
type CellCount struct {
	Cell  geo.Cell
	Grid  string // the grid most of them lie in
	Count int
}

// HotspotSource counts reports by stored H3 cell (merged duplicates not
// counted, as hotspots count).
type HotspotSource interface {
	// TopCells returns the n cells with the most reports in [from, to),
	// most first, ties by cell.
	TopCells(ctx context.Context, r cases.Restriction, from, to time.Time, n int) ([]CellCount, error)
	// CountCells returns the reports in [from, to) of each of cells.
	CountCells(ctx context.Context, r cases.Restriction, from, to time.Time, cells []geo.Cell) (map[geo.Cell]int, error)
}

// CampaignSource gives the progress of the campaigns running in a period,
// counting the cases of r, as at asOf.
type CampaignSource interface {
	CampaignProgress(ctx context.Context, r cases.Restriction, from, to, asOf time.Time, tz string) ([]CampaignLine, error)
}

// MilestoneSource gives the project milestones late at the end of p in
// scope s (internal/app.LateMilestones reads them from the projects).
type MilestoneSource interface {
	LateMilestones(ctx context.Context, s Scope, p Period) ([]LateMilestone, error)
}
