package httpapi

import (
	"context"
	"net/url"
	"sync"
	"time"

	"citygrid"
	"citygrid/grid"
)

// asOfLocators caches the locators of past (and a scheduled) grid
// versions that at= asked for, each with the period it holds for; a grid
// change anywhere (the index rebuilt) clears it. A handful suffice: people
// ask about a few dates at a time.
type asOfLocators struct {
	mu      sync.Mutex
	builtAt time.Time
	entries []asOfEntry
}

type asOfEntry struct {
	from, to time.Time // [from, to); zero to: open
	l        *grid.Locator
	version  int64
}

const maxAsOfLocators = 4

func (a *asOfLocators) reset() {
	a.mu.Lock()
	a.entries = nil
	a.mu.Unlock()
}

func (e asOfEntry) holds(t time.Time) bool {
	return !t.Before(e.from) && (e.to.IsZero() || t.Before(e.to))
}

// parseAt reads the at= parameter: a time, or absent (zero).
func parseAt(q url.Values) (time.Time, error) {
	v := q.Get("at")
	if v == "" {
		return time.Time{}, nil
	}
	return parseTime(v, "at")
}

// locatorAt returns the locator of the grids in force at t and the version
// then in force. The locator is built once per period in which the grids
// stay the same, so that a located point costs what it costs now.
func (s *Server) locatorAt(ctx context.Context, t time.Time) (*grid.Locator, int64, error) {
	if s.versions == nil {
		return nil, 0, citygrid.Errorf(citygrid.CodeInvalid, "at= needs grid versions, which this server does not keep")
	}
	a := &s.asOf
	a.mu.Lock()
	if b := s.index.BuiltAt(); !b.Equal(a.builtAt) {
		a.entries, a.builtAt = nil, b
	}
	for _, e := range a.entries {
		if e.holds(t) {
			a.mu.Unlock()
			return e.l, e.version, nil
		}
	}
	a.mu.Unlock()

	e, err := s.buildLocatorAt(ctx, t)
	if err != nil {
		return nil, 0, err
	}
	a.mu.Lock()
	a.entries = append(a.entries, e)
	if len(a.entries) > maxAsOfLocators {
		a.entries = a.entries[1:]
	}
	a.mu.Unlock()
	return e.l, e.version, nil
}

func (s *Server) buildLocatorAt(ctx context.Context, t time.Time) (asOfEntry, error) {
	// A version scheduled for t or before answers for its time on.
	if v, l, err := s.versions.Scheduled(ctx); err != nil {
		return asOfEntry{}, err
	} else if v != nil && !t.Before(*v.EffectiveAt) {
		return asOfEntry{from: *v.EffectiveAt, l: l, version: v.ID}, nil
	}
	from, to, err := s.versions.Epoch(ctx, t)
	if err != nil {
		return asOfEntry{}, err
	}
	grids, version, err := s.versions.GridsAt(ctx, t)
	if err != nil {
		return asOfEntry{}, err
	}
	units, err := s.grids.FindUnits(ctx)
	if err != nil {
		return asOfEntry{}, err
	}
	l, err := grid.NewLocator(grids, units, s.index.Options())
	if err != nil {
		return asOfEntry{}, err
	}
	if to.IsZero() {
		// The open end: a version scheduled later closes it.
		if v, _, err := s.versions.Scheduled(ctx); err == nil && v != nil {
			to = *v.EffectiveAt
		}
	}
	return asOfEntry{from: from, to: to, l: l, version: version}, nil
}
