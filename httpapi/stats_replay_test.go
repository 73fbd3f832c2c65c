package httpapi_test

import (
	"encoding/json"
	"slices"
	"time"

	"citygrid/cases"
)

// This file rebuilds /v1/stats from case histories alone, as an auditor
// would: its own replay of each history (not the moments the store keeps on
// the case), its own counting, its own grouping, per the definitions in
// the README.

// replayed is what a case's history says happened to it, and when.
type replayed struct {
	reported time.Time
	filed    *time.Time
	ended    *time.Time // closed, rejected or merged
	endKind  string     // "closed", "rejected" or "merged"
	overdue  *time.Time // the first moment its clock ran past the deadline
	reworks  []time.Time
	extended []time.Time
	// changes of the grouping keys: at, field, value after
	changes []keyChange
	initial map[string]string // category, grid, unit, status at the report
}

type keyChange struct {
	at           time.Time
	field, value string
}

// replay reads a history (oldest first, starting with "create").
func replay(events []cases.Event) replayed {
	create := events[0]
	var arrived struct {
		DueAt    time.Time `json:"due_at"`
		Category string    `json:"category"`
		Grid     string    `json:"grid"`
		Unit     string    `json:"unit"`
	}
	if err := json.Unmarshal(create.Data, &arrived); err != nil || create.Kind != "create" {
		panic("history does not start with a create event: " + string(create.Data))
	}
	r := replayed{reported: create.At, initial: map[string]string{
		"category": arrived.Category, "grid": arrived.Grid, "unit": arrived.Unit, "status": create.To}}
	status, paused, due := cases.Status(create.To), false, arrived.DueAt
	// asking: a request awaits a decision. It holds the moment the case
	// runs past its deadline until it is decided (or lapses).
	asking := false
	if status.Filed() {
		r.filed = &create.At
	}
	if status == cases.StatusClosed || status == cases.StatusRejected {
		r.ended, r.endKind = &create.At, string(status)
	}
	running := func() bool {
		return !paused && !asking && (status == cases.StatusAccepted || status == cases.StatusDispatched || status == cases.StatusInProgress)
	}
	// The clock runs from the last change; it passes the deadline at the
	// later of that change and the deadline, if nothing happens first.
	since := create.At
	passes := func(next time.Time) {
		if r.overdue == nil && running() {
			m := since
			if due.After(m) {
				m = due
			}
			if m.Before(next) {
				r.overdue = &m
			}
		}
	}
	for _, e := range events[1:] {
		passes(e.At)
		at := e.At
		switch e.Kind {
		case "status", "merge", "returned":
			from := status
			status = cases.Status(e.To)
			r.changes = append(r.changes, keyChange{at, "status", e.To})
			switch {
			case e.Kind == "merge":
				r.ended, r.endKind = &at, "merged"
			case status == cases.StatusAccepted && r.filed == nil:
				r.filed = &at
			case status == cases.StatusClosed || status == cases.StatusRejected:
				r.ended, r.endKind = &at, string(status)
			case status == cases.StatusDispatched && (from == cases.StatusResolved || from == cases.StatusVerified):
				r.reworks = append(r.reworks, at)
			}
		case "extend", "resume":
			var d struct {
				DueTo   time.Time `json:"due_to"`
				Request int64     `json:"request"` // an approval
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				panic(err)
			}
			due = d.DueTo
			if e.Kind == "resume" {
				paused = false
			} else {
				r.extended = append(r.extended, at)
			}
			if d.Request != 0 {
				asking = false
			}
		case "pause":
			// Parked now, or, approving a request, since the request: the
			// clock did not run past the deadline meanwhile either way.
			paused = true
			var d struct {
				Request int64 `json:"request"` // an approval
			}
			if len(e.Data) > 0 {
				if err := json.Unmarshal(e.Data, &d); err != nil {
					panic(err)
				}
			}
			if d.Request != 0 {
				asking = false
			}
		case "extension_requested", "pause_requested":
			asking = true
		case "declined", "lapsed":
			asking = false
		case "assign":
			var d struct{ Field, To string }
			if err := json.Unmarshal(e.Data, &d); err != nil {
				panic(err)
			}
			r.changes = append(r.changes, keyChange{at, d.Field, d.To})
		}
		since = at
	}
	if r.overdue == nil && running() {
		m := since
		if due.After(m) {
			m = due
		}
		r.overdue = &m // it will happen, unless something changes: counted only once before a period's end
	}
	return r
}

// keyAt returns the value of a grouping field just before h.
func (r *replayed) keyAt(field string, h time.Time) string {
	v := r.initial[field]
	for _, c := range r.changes {
		if c.field == field && c.at.Before(h) {
			v = c.value
		}
	}
	return v
}

func in(t *time.Time, f, h time.Time) bool { return t != nil && !t.Before(f) && t.Before(h) }

// count adds what r did in [f, h), judged at h, to row: what happened
// until now, and the deadlines now is after. closedSeconds collects the
// seconds from report to closure of the cases it counts as closed.
func (r *replayed) count(row *cases.StatsRow, f, h, now time.Time, closedSeconds *[]float64) {
	merged := r.endKind == "merged"
	dup := merged && r.ended.Before(h)
	if in(r.ended, f, h) {
		switch {
		case merged:
			row.Duplicates++
		case r.endKind == "rejected":
			row.Rejected++
		case r.overdue == nil || !r.overdue.Before(*r.ended):
			row.ClosedOnTime++
			*closedSeconds = append(*closedSeconds, float64(r.ended.Sub(r.reported).Microseconds())/1e6)
		}
	}
	if dup {
		return
	}
	if in(&r.reported, f, h) {
		row.Received++
	}
	if in(r.filed, f, h) {
		row.Filed++
	}
	if in(r.overdue, f, h) && r.overdue.Before(now) && (r.ended == nil || r.overdue.Before(*r.ended)) {
		row.Overdue++
		if r.endKind == "closed" && r.ended.Before(h) {
			row.ClosedLate++
			*closedSeconds = append(*closedSeconds, float64(r.ended.Sub(r.reported).Microseconds())/1e6)
		}
	}
	for _, t := range r.reworks {
		if in(&t, f, h) {
			row.Reworks++
		}
	}
	for _, t := range r.extended {
		if in(&t, f, h) {
			row.Extensions++
		}
	}
}

// finish sets the sums, the median (as PostgreSQL's percentile_cont
// interpolates) and the rates.
func finish(row *cases.StatsRow, closedSeconds []float64) {
	row.Due = row.ClosedOnTime + row.Overdue
	row.Closed = row.ClosedOnTime + row.ClosedLate
	if n := len(closedSeconds); n > 0 {
		slices.Sort(closedSeconds)
		lo, hi := closedSeconds[(n-1)/2], closedSeconds[n/2]
		m := lo
		if n%2 == 0 {
			m = lo + 0.5*(hi-lo)
		}
		m /= 3600
		row.MedianHoursToClose = &m
	}
	row.SetRates()
}

func empty(r cases.StatsRow) bool {
	return r.Received+r.Filed+r.Rejected+r.Duplicates+r.ClosedOnTime+r.Overdue+r.Reworks+r.Extensions == 0
}

// rebuild computes the rows of one query from the replayed histories.
// ancestor maps a grid to its street and community.
func rebuild(all []replayed, by cases.StatsBy, from, to, now time.Time, loc *time.Location, ancestor map[string][2]string) []cases.StatsRow {
	// What happened until now counts: the end is just after now (the
	// database keeps microseconds), or the period's end.
	end := to
	if now.Before(end) {
		end = now.Add(time.Microsecond)
	}
	if by == cases.ByDay {
		var out []cases.StatsRow
		for _, day := range cases.Days(from, to, loc) {
			d, _ := time.ParseInLocation(time.DateOnly, day, loc)
			f, h := maxT(from, d), minT(end, d.AddDate(0, 0, 1))
			row := cases.StatsRow{Key: day}
			var secs []float64
			if f.Before(h) {
				for i := range all {
					all[i].count(&row, f, h, now, &secs)
				}
			}
			finish(&row, secs)
			out = append(out, row)
		}
		return out
	}
	rows := map[string]*cases.StatsRow{}
	secs := map[string]*[]float64{}
	for i := range all {
		r := &all[i]
		var key string
		switch by {
		case cases.ByStreet:
			key = ancestor[r.keyAt("grid", end)][0]
		case cases.ByCommunity:
			key = ancestor[r.keyAt("grid", end)][1]
		default:
			key = r.keyAt(string(by), end)
		}
		if rows[key] == nil {
			rows[key], secs[key] = &cases.StatsRow{Key: key}, new([]float64)
		}
		r.count(rows[key], from, end, now, secs[key])
	}
	var out []cases.StatsRow
	for key, row := range rows {
		finish(row, *secs[key])
		if !empty(*row) {
			out = append(out, *row)
		}
	}
	slices.SortFunc(out, func(a, b cases.StatsRow) int {
		switch {
		case a.Key < b.Key:
			return -1
		case a.Key > b.Key:
			return 1
		}
		return 0
	})
	return out
}

func maxT(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minT(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
