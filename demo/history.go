package demo

import (
	"fmt"
	"time"

	"citygrid/cases"
)

// The shares of the demo's handling, per report. They are chosen so that
// every indicator has something to show: most cases are closed on time, a
// few late or never, some reworked, extended or parked.
const (
	duplicateShare = 0.03 // a second report of the previous case, merged by the supervision centre
	rejectShare    = 0.03 // not the city's business (不予立案)
	parkShare      = 0.02 // parked on the backlog ledger (挂账) before the deadline
	stayParked     = 0.3  // of the parked, those never resumed
	extendShare    = 0.05 // an extension (延期) asked for before the deadline
	reworkShare    = 0.07 // sent back by verification (返工), per verification
	stuckShare     = 0.02 // never handled to the end
)

// Who acts: the supervision centre finds, verifies and closes; the command
// centre files and dispatches; the unit handles.
const (
	actorSupervisor = "supervision-centre"
	actorDispatcher = "command-centre"
)

// mergePlaceholder stands for the id of the case a duplicate is merged
// into, which the store fills in (cases.Record.MergeInto).
const mergePlaceholder = -1

// player plays one case's handling through cases.ApplyUpdate, the rules
// the API applies, at times on the working calendar, and records the
// events. Nothing happens after the generator's Now.
type player struct {
	g      *CaseGenerator
	c      *cases.Case
	t      time.Time // the last change
	events []cases.Event
	err    error
}

// after returns the instant w of working time after the last change.
func (p *player) after(w time.Duration) time.Time { return p.g.Cal.AddWorking(p.t, w) }

// minutes returns a working duration of lo to hi minutes.
func (p *player) minutes(lo, hi int) time.Duration {
	return time.Duration(lo+p.g.rng.IntN(hi-lo+1)) * time.Minute
}

// apply makes the change u at t and reports whether it happened: false
// once t is in the future (the case stays as it is now) or the rules
// refused it (a bug in the generator, kept in p.err).
func (p *player) apply(t time.Time, actor, note string, u cases.Update) bool {
	if p.err != nil || t.After(p.g.Now) {
		return false
	}
	u.IfVersion, u.Now, u.Actor, u.Note, u.Calendar, u.Categories = p.c.Version, t, actor, note, p.g.Cal, p.g.Cats
	ev, err := cases.ApplyUpdate(p.c, u)
	if err != nil {
		p.err = fmt.Errorf("demo case %s at %s: %w", p.c.ExternalID, t.Format(time.RFC3339), err)
		return false
	}
	p.t = t.Truncate(time.Microsecond)
	p.events = append(p.events, ev...)
	return true
}

func (p *player) move(t time.Time, actor, note string, to cases.Status) bool {
	return p.apply(t, actor, note, cases.Update{Status: &to})
}

// handle plays a filed report from acceptance to closure, as far as now.
func (p *player) handle() {
	g, c := p.g, p.c
	limit := g.limitOf(c.Category)
	unit := c.Unit
	if unit == "" {
		unit = "unit"
	}
	// The steps before the handling take minutes, less for short limits.
	brief := func(lo, hi int) time.Duration { return min(p.minutes(lo, hi), max(limit/10, 2*time.Minute)) }
	if !p.move(p.after(brief(2, 40)), actorDispatcher, "", cases.StatusAccepted) ||
		!p.move(p.after(brief(2, 30)), actorDispatcher, "", cases.StatusDispatched) {
		return
	}
	if g.rng.Float64() < parkShare && !p.park() {
		return
	}
	if !p.move(p.after(brief(5, 120)), unit, "", cases.StatusInProgress) {
		return
	}
	if g.rng.Float64() < stuckShare {
		return
	}
	// The handling takes a share of the working time left: mostly well
	// within it, sometimes over.
	left := g.Cal.WorkingBetween(p.t, c.DueAt)
	share := func(d time.Duration, lo, hi float64) time.Duration {
		return time.Duration(float64(d) * (lo + (hi-lo)*g.rng.Float64()))
	}
	var work time.Duration
	late := g.rng.Float64()
	switch {
	case late < 0.84:
		work = share(left, 0.2, 0.95)
	case late < 0.96:
		work = share(max(left, limit/4), 1.05, 1.8)
	default:
		work = share(max(left, limit/4), 1.8, 5)
	}
	work = max(work, 10*time.Minute)
	if late >= 0.84 && g.rng.Float64() < extendShare/0.16 {
		// The unit sees it will be late and asks in time.
		started := p.t
		at := p.after(share(min(work, left), 0.2, 0.7))
		if !at.After(c.DueAt) {
			by := cases.TimeLimit{Value: 1 + g.rng.IntN(3), Unit: cases.WorkingDays}
			if limit <= 8*time.Hour {
				by = cases.TimeLimit{Value: 4 + g.rng.IntN(5), Unit: cases.WorkingHours}
			}
			if !p.apply(at, unit, "需协调相关部门, 申请延期", cases.Update{ExtendBy: &by}) {
				return
			}
			work = max(work-g.Cal.WorkingBetween(started, p.t), 10*time.Minute)
		}
	}
	if !p.move(p.after(work), unit, "", cases.StatusResolved) {
		return
	}
	for round := 0; ; round++ {
		at := p.after(p.minutes(10, 180))
		if round < 2 && g.rng.Float64() < reworkShare {
			if !p.move(at, actorSupervisor, "复核未通过", cases.StatusDispatched) ||
				!p.move(p.after(brief(5, 60)), unit, "", cases.StatusInProgress) ||
				!p.move(p.after(share(limit, 0.1, 0.5)), unit, "", cases.StatusResolved) {
				return
			}
			continue
		}
		if !p.move(at, actorSupervisor, "", cases.StatusVerified) {
			return
		}
		p.move(p.after(p.minutes(5, 60)), actorDispatcher, "", cases.StatusClosed)
		return
	}
}

// park puts the case on the backlog ledger before its deadline, and mostly
// takes it off again days later; it reports whether the handling goes on.
func (p *player) park() bool {
	g, c := p.g, p.c
	at := p.after(p.minutes(10, 60))
	if at.After(c.DueAt) {
		return true
	}
	if !p.apply(at, actorDispatcher, "挂账: 待协调", cases.Update{Pause: ptr(true)}) {
		return false
	}
	if g.rng.Float64() < stayParked {
		return false
	}
	return p.apply(p.after(time.Duration(1+g.rng.IntN(8))*g.Cal.WorkdayLength()), actorDispatcher, "恢复办理", cases.Update{Pause: ptr(false)})
}

func ptr[T any](v T) *T { return &v }

// limitOf returns the working time the category allows.
func (g *CaseGenerator) limitOf(code string) time.Duration {
	cat, ok := g.Cats.Find(code)
	if !ok {
		return g.Cal.WorkdayLength()
	}
	return cat.TimeLimit.Duration(g.Cal)
}
