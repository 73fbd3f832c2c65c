package analysis

import (
	"time"

	"citygrid"
)

// Step units of an emerging hot spot analysis.
const (
	StepDay   = "day"
	StepWeek  = "week"
	StepMonth = "month"
)

// MinSteps is the fewest whole steps an emerging analysis runs on: the
// Mann-Kendall trend needs three (ArcGIS asks for ten).
const MinSteps = 3

// How the start of a time axis was chosen (Steps.StartRule).
const (
	StartFrom      = "from"       // the caller's from, as given
	StartFirstData = "first_data" // the step holding the first case in the study area
	StartWindow    = "window"     // the step holding the default window's start: the data begins before it
)

// Steps is the time axis of an emerging hot spot analysis: whole calendar
// steps in the district's time zone, step k covering [Starts[k],
// Starts[k+1]) and the last ending at End.
type Steps struct {
	Unit      string
	Loc       *time.Location
	Starts    []time.Time
	End       time.Time
	StartRule string
	// DroppedTo is the end of the period asked for when it does not end on
	// a step boundary: [End, DroppedTo) is a partial step, left out. A
	// slice shorter than the others holds fewer cases, and its Gi* is the
	// final step's, on which most patterns turn. Zero when nothing was
	// left out.
	DroppedTo time.Time
}

// CutSteps cuts [from, to) into whole steps of unit (day, week or month)
// in loc, whatever the offset from and to were written with: step k starts
// at from's local wall-clock time on the local date k days, 7k days or k
// months after from's, a month's day clamped to the month's last (from Jan
// 31: Feb 28, Mar 31, Apr 30). Steps are therefore calendar days (23 or 25
// hours across a daylight-saving change), weeks and months. A partial last
// step is dropped, and Steps.DroppedTo says so. Fewer than MinSteps whole
// steps, or more than MaxSteps, is CodeInvalid.
func CutSteps(from, to time.Time, unit string, loc *time.Location) (Steps, error) {
	if unit != StepDay && unit != StepWeek && unit != StepMonth {
		return Steps{}, citygrid.Errorf(citygrid.CodeInvalid, "step: want day, week or month")
	}
	if !from.Before(to) {
		return Steps{}, citygrid.Errorf(citygrid.CodeInvalid, "from must be before to")
	}
	st := Steps{Unit: unit, Loc: loc, StartRule: StartFrom}
	local := from.In(loc)
	for k := 0; ; k++ {
		t := addSteps(local, unit, k)
		if t.After(to) {
			break
		}
		if len(st.Starts) > MaxSteps {
			return Steps{}, citygrid.Errorf(citygrid.CodeInvalid, "%s steps from %s to %s make more than %d slices: choose a longer step or a shorter period",
				unit, from.In(loc).Format(time.DateOnly), to.In(loc).Format(time.DateOnly), MaxSteps)
		}
		st.Starts = append(st.Starts, t)
	}
	// The last boundary reached is the end of the last whole step.
	st.End = st.Starts[len(st.Starts)-1]
	st.Starts = st.Starts[:len(st.Starts)-1]
	if st.End.Before(to) {
		st.DroppedTo = to.In(loc)
	}
	if len(st.Starts) < MinSteps {
		msg := "the period from %s to %s holds %d whole %s steps in %s; the trend test needs at least %d"
		return Steps{}, citygrid.Errorf(citygrid.CodeInvalid, msg, local.Format(time.RFC3339), to.In(loc).Format(time.RFC3339), len(st.Starts), unit, loc, MinSteps)
	}
	return st, nil
}

// addSteps is t moved k steps of unit on the calendar of t's location, at
// the same wall-clock time; a month's day is clamped to its last day,
// counted from t (not from the previous step), so months never drift.
func addSteps(t time.Time, unit string, k int) time.Time {
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	switch unit {
	case StepWeek:
		d += 7 * k
	case StepMonth:
		m += time.Month(k)
		// Day 0 of the next month is the last day of this one.
		if last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
			d = last
		}
	default:
		d += k
	}
	return time.Date(y, m, d, hh, mm, ss, t.Nanosecond(), t.Location())
}

// StepFloor returns the start of the calendar step of unit holding t in
// loc: local midnight of its day, of the Monday of its week (weeks start on
// Monday, as in China and ISO 8601), or of the 1st of its month.
func StepFloor(t time.Time, unit string, loc *time.Location) time.Time {
	local := t.In(loc)
	y, m, d := local.Date()
	switch unit {
	case StepWeek:
		d -= (int(local.Weekday()) + 6) % 7 // days since Monday
	case StepMonth:
		d = 1
	}
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// Axis chooses the time axis of an emerging analysis over q.Filter's
// period [From, To), in whole steps of unit in loc (see CutSteps). A given
// from starts it as written. Otherwise From is a default window's start,
// and an axis starting there would open with empty steps whenever the
// data is younger than the window (with a year's window and data since
// June, 26 empty weeks turn every long-standing hot spot from persistent
// into consecutive): the axis starts at the step holding the first case the
// filter selects in the study area, or, when the data is older than the
// window, at the step holding the window's start.
func (s *Service) Axis(q Query, unit string, loc *time.Location, fromGiven bool) (Steps, error) {
	f := q.Filter
	if fromGiven {
		return CutSteps(f.From, f.To, unit, loc)
	}
	st, err := s.study(q.Res, q.K, q.Filter.Restriction.Grids)
	if err != nil {
		return Steps{}, err
	}
	rule, from := StartWindow, f.From
	all := f
	all.From = time.Time{}
	if first, ok := s.cases.Earliest(all, st.Res, st.pos); ok && first.After(f.From) {
		rule, from = StartFirstData, first
	}
	steps, err := CutSteps(StepFloor(from, unit, loc), f.To, unit, loc)
	steps.StartRule = rule
	return steps, err
}
