package cases

import (
	"context"
	"time"
)

// StatsBy names a grouping of the summary indicators.
type StatsBy string

const (
	ByStreet    StatsBy = "street"
	ByCommunity StatsBy = "community"
	ByGrid      StatsBy = "grid"
	ByUnit      StatsBy = "unit"
	ByCategory  StatsBy = "category"
	ByStatus    StatsBy = "status"
	ByDay       StatsBy = "day"
)

// StatsGroupings lists the valid groupings.
var StatsGroupings = []StatsBy{ByStreet, ByCommunity, ByGrid, ByUnit, ByCategory, ByStatus, ByDay}

// StatsRow holds the indicators districts are judged on, for one group over
// the period [From, To). Each is computed from facts that do not change once
// the period is over (report, close and due times, and the event history),
// so a past month reads the same tomorrow.
type StatsRow struct {
	Key string `json:"key"`
	// Received: cases reported in the period.
	Received int `json:"received"`
	// Filed: cases accepted (立案) in the period.
	Filed int `json:"filed"`
	// Due: cases whose deadline fell in the period.
	Due int `json:"due"`
	// Closed: cases closed in the period.
	Closed int `json:"closed"`
	// ClosedOnTime: cases due in the period and closed by their deadline.
	ClosedOnTime int `json:"closed_on_time"`
	// Overdue: cases due in the period and not closed by their deadline.
	Overdue int `json:"overdue"`
	// ClosureRate (结案率): of the cases received, the share closed by the
	// period's end.
	ClosureRate *float64 `json:"closure_rate"`
	// OnTimeRate (按期结案率): closed on time / due.
	OnTimeRate *float64 `json:"on_time_rate"`
	// ReworkRate (返工率): cases sent back to dispatch after resolution,
	// over cases resolved, in the period.
	ReworkRate *float64 `json:"rework_rate"`
	// ExtensionRate (延期率): cases granted an extension in the period, over
	// cases received.
	ExtensionRate *float64 `json:"extension_rate"`
	// MedianHoursToClose over the cases closed in the period.
	MedianHoursToClose *float64 `json:"median_hours_to_close"`
}

// StatsQuery asks for indicators grouped By over [From, To).
type StatsQuery struct {
	By       StatsBy
	From, To time.Time
	TimeZone string // for By = day
}

// StatsStore computes summaries.
type StatsStore interface {
	Stats(ctx context.Context, q StatsQuery) ([]StatsRow, error)
}
