package cases

import (
	"context"
	"fmt"
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

// StatsRow holds the indicators a district is judged on (数字城管 practice:
// 受理, 立案, 应结案, 结案, 按期结案; 结案率 = 结案数 / 应结案数, 按期结案率
// = 按期结案数 / 应结案数), for one group over a period [From, To).
//
// A period's figures are what was known at its end, or now if that comes
// first (StatsQuery.End): they count only what happened by then, so a past
// period reads the same forever. Each count is of moments in the period:
//
//   - Received (受理): reports.
//   - Filed (立案): cases accepted (or stored in a status after acceptance).
//   - Rejected (不予立案): reports rejected. They count in Received and here
//     only.
//   - Duplicates (合并): cases merged into another. A case merged by the
//     period's end counts here only, in no other column of the period.
//   - Due (应结案): filed cases that fell due: closed before running past
//     their deadline (ClosedOnTime), or ran past it (Overdue). A case falls
//     due once, in one period.
//   - ClosedOnTime (按期结案): closed without having run past the deadline.
//   - Overdue (超期): ran past the deadline (the handling clock, clock.go);
//     a case overdue in a period stays overdue in it.
//   - ClosedLate (超期结案): of the Overdue, those closed by the period's
//     end; the rest are still open, late (超期未结).
//   - Closed (结案): of the Due, those closed by the period's end.
//   - Reworks (返工): cases sent back from resolved or verified to dispatched.
//   - Extensions (延期): deadline extensions granted.
//
// So every row adds up: Due = ClosedOnTime + Overdue, Closed = ClosedOnTime
// + ClosedLate, ClosedLate ≤ Overdue, Closed ≤ Due. Every case counts in
// one group (its grid, unit, category or status at the period's end), so
// the rows of a grouping add up to the district. With By = day each day
// (in the calendar's time zone, cut at From and To) is a period of its
// own, its moments judged at the day's end.
type StatsRow struct {
	Key          string `json:"key"`
	Received     int    `json:"received"`
	Filed        int    `json:"filed"`
	Rejected     int    `json:"rejected"`
	Duplicates   int    `json:"duplicates"`
	Due          int    `json:"due"`
	Closed       int    `json:"closed"`
	ClosedOnTime int    `json:"closed_on_time"`
	ClosedLate   int    `json:"closed_late"`
	Overdue      int    `json:"overdue"`
	Reworks      int    `json:"reworks"`
	Extensions   int    `json:"extensions"`
	// ClosureRate (结案率) is Closed / Due.
	ClosureRate *float64 `json:"closure_rate"`
	// OnTimeRate (按期结案率) is ClosedOnTime / Due.
	OnTimeRate *float64 `json:"on_time_rate"`
	// ReworkRate (返工率) is Reworks / Due.
	ReworkRate *float64 `json:"rework_rate"`
	// ExtensionRate (延期率) is Extensions / Due.
	ExtensionRate *float64 `json:"extension_rate"`
	// MedianHoursToClose is the median, over the Closed, of the hours from
	// report to closure.
	MedianHoursToClose *float64 `json:"median_hours_to_close"`
}

// SetRates fills the rates from the counts; a rate with nothing to divide
// by is nil.
func (r *StatsRow) SetRates() {
	r.ClosureRate = ratio(r.Closed, r.Due)
	r.OnTimeRate = ratio(r.ClosedOnTime, r.Due)
	r.ReworkRate = ratio(r.Reworks, r.Due)
	r.ExtensionRate = ratio(r.Extensions, r.Due)
}

// Check returns an error naming the first identity of the row that does
// not hold.
func (r *StatsRow) Check() error {
	switch {
	case r.Due != r.ClosedOnTime+r.Overdue:
		return fmt.Errorf("%s: due %d ≠ closed on time %d + overdue %d", r.Key, r.Due, r.ClosedOnTime, r.Overdue)
	case r.Closed != r.ClosedOnTime+r.ClosedLate:
		return fmt.Errorf("%s: closed %d ≠ closed on time %d + closed late %d", r.Key, r.Closed, r.ClosedOnTime, r.ClosedLate)
	case r.ClosedLate > r.Overdue:
		return fmt.Errorf("%s: closed late %d > overdue %d", r.Key, r.ClosedLate, r.Overdue)
	case min(r.Received, r.Filed, r.Rejected, r.Duplicates, r.ClosedOnTime, r.ClosedLate, r.Reworks, r.Extensions) < 0:
		return fmt.Errorf("%s: a negative count", r.Key)
	}
	return nil
}

func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := float64(a) / float64(b)
	return &v
}

// StatsQuery asks for indicators grouped By over [From, To), as known at
// Now (the zero time: the store's clock).
type StatsQuery struct {
	By       StatsBy
	From, To time.Time
	Now      time.Time
	TimeZone string // the calendar's: days, for By = day
	// Restrict is the caller's scope: only its cases are counted.
	Restrict Restriction
	// Campaign, when not 0, counts only the cases that campaign holds
	// (campaigns, issue 18).
	Campaign int64
}

// End is the instant a period's figures are taken at: its end, or now if
// that comes first. What happened at now itself counts; a deadline at now
// has not been run past yet.
func (q StatsQuery) End() time.Time {
	if !q.Now.IsZero() && q.Now.Before(q.To) {
		return q.Now
	}
	return q.To
}

// Days returns the local dates ("YYYY-MM-DD") of the days [from, to)
// touches in loc, in order.
func Days(from, to time.Time, loc *time.Location) []string {
	var out []string
	if !from.Before(to) {
		return out
	}
	y, m, d := from.In(loc).Date()
	last := to.Add(-time.Nanosecond).In(loc).Format(time.DateOnly)
	for i := 0; ; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc).Format(time.DateOnly)
		out = append(out, day)
		if day == last {
			return out
		}
	}
}

// StatsStore computes summaries.
type StatsStore interface {
	Stats(ctx context.Context, q StatsQuery) ([]StatsRow, error)
}

// Total adds up the rows of one grouping into one row keyed key: every
// case counts in one group, so they add up to the whole (bulletins and
// campaigns, issue 18). The median does not add up and is left nil.
func Total(rows []StatsRow, key string) StatsRow {
	t := StatsRow{Key: key}
	for _, r := range rows {
		t.Received += r.Received
		t.Filed += r.Filed
		t.Rejected += r.Rejected
		t.Duplicates += r.Duplicates
		t.Due += r.Due
		t.Closed += r.Closed
		t.ClosedOnTime += r.ClosedOnTime
		t.ClosedLate += r.ClosedLate
		t.Overdue += r.Overdue
		t.Reworks += r.Reworks
		t.Extensions += r.Extensions
	}
	t.SetRates()
	return t
}
