package project

import (
	"fmt"
	"time"

	"citygrid"
	"citygrid/cases"
)

// DateLayout is how dates are written: a civil date of the calendar's time
// zone, no time of day.
const DateLayout = "2006-01-02"

// Limits on a plan.
const (
	MaxMilestones  = 50
	MaxWorkingDays = 2000 // about eight years of working days, per milestone
	// maxPlanDays bounds the days between today and a deadline.
	maxPlanDays = 20 * 366
)

// MilestoneSpec is a milestone as planned: a name and how many working
// days it takes.
type MilestoneSpec struct {
	Name        string `json:"name"`
	WorkingDays int    `json:"working_days"`
}

// Milestone is a scheduled milestone: its working days run from Start to
// Due, both working days, both included.
type Milestone struct {
	Name        string     `json:"name"`
	WorkingDays int        `json:"working_days"`
	Start       time.Time  `json:"-"` // a civil date: UTC midnight
	Due         time.Time  `json:"-"` // a civil date: UTC midnight
	DoneAt      *time.Time `json:"-"`
}

// Late reports whether m is not done and today (a civil date) is after its
// due date.
func (m Milestone) Late(today time.Time) bool { return m.DoneAt == nil && today.After(m.Due) }

// Civil returns the civil date of t in loc, as UTC midnight: how dates are
// held and stored.
func Civil(t time.Time, loc *time.Location) time.Time {
	y, mo, d := t.In(loc).Date()
	return time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
}

// ParseDate parses a civil date "YYYY-MM-DD".
func ParseDate(s string) (time.Time, error) {
	return time.Parse(DateLayout, s)
}

// ScheduleError says which milestone does not fit before the deadline and
// by how many working days.
type ScheduleError struct {
	// Index and Name are the milestone's (counted from 0): the latest one,
	// walking back from the deadline, whose first working day would fall
	// before today.
	Index int
	Name  string
	// ShortBy is how many working days before today that milestone would
	// have to start; Missing is how many working days the whole plan lacks.
	ShortBy, Missing int
	// Need and Have are the plan's working days and those from today to
	// the deadline.
	Need, Have int
}

func (e *ScheduleError) Error() string {
	return fmt.Sprintf("milestones[%d] %q does not fit before the deadline: it would have to start %d working day(s) before today (the milestones need %d working days, %d remain from today to the deadline: %d short)",
		e.Index, e.Name, e.ShortBy, e.Need, e.Have, e.Missing)
}

// Problem is e as a client-safe 422 with the numbers as details.
func (e *ScheduleError) Problem() *citygrid.Error {
	p := citygrid.Errorf(citygrid.CodeUnprocessable, "%s", e.Error())
	p.Details = map[string]any{"field": fmt.Sprintf("milestones[%d]", e.Index), "milestone": e.Index, "short_by_working_days": e.ShortBy,
		"missing_working_days": e.Missing, "need_working_days": e.Need, "have_working_days": e.Have}
	return p
}

// Schedule back-schedules milestones from the final deadline (倒排工期) on
// the working calendar cal. today and deadline are civil dates (UTC
// midnight, see Civil). The last milestone is due on the last working day
// on or before the deadline; each milestone takes its working days just
// before the next one starts, so each earlier one is due on the working
// day before the next one's first. Today counts when it is a working day.
// A deadline before today is refused; so is a plan whose first milestone
// would have to start before today (a *ScheduleError naming the milestone
// that does not fit). Holidays and make-up working days (调休) come from
// the calendar.
func Schedule(cal *cases.Calendar, today, deadline time.Time, specs []MilestoneSpec) ([]Milestone, error) {
	if deadline.Before(today) {
		return nil, citygrid.Errorf(citygrid.CodeUnprocessable, "deadline %s is in the past (today is %s)", deadline.Format(DateLayout), today.Format(DateLayout))
	}
	if days := int(deadline.Sub(today).Hours() / 24); days > maxPlanDays {
		return nil, citygrid.Errorf(citygrid.CodeUnprocessable, "deadline %s is more than 20 years away", deadline.Format(DateLayout))
	}
	// The working days from today to the deadline, in order.
	var work []time.Time
	for d := today; !d.After(deadline); d = d.AddDate(0, 0, 1) {
		// Noon of the civil date in the calendar's zone: never another date.
		if cal.IsWorkday(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, cal.Location())) {
			work = append(work, d)
		}
	}
	need := 0
	for _, s := range specs {
		need += s.WorkingDays
	}
	out := make([]Milestone, len(specs))
	end := len(work) // the milestone being placed ends on work[end-1]
	cum := 0
	for i := len(specs) - 1; i >= 0; i-- {
		s := specs[i]
		cum += s.WorkingDays
		if s.WorkingDays > end {
			return nil, &ScheduleError{Index: i, Name: s.Name, ShortBy: cum - len(work), Missing: need - len(work), Need: need, Have: len(work)}
		}
		out[i] = Milestone{Name: s.Name, WorkingDays: s.WorkingDays, Start: work[end-s.WorkingDays], Due: work[end-1]}
		end -= s.WorkingDays
	}
	return out, nil
}
