package bulletin

import (
	"context"
	"log/slog"
	"time"
)

// Locker elects the one process that runs scheduled jobs: TryLock takes
// the lock if it is free (a PostgreSQL advisory lock, postgres.Locker),
// and unlock gives it back.
type Locker interface {
	TryLock(ctx context.Context) (unlock func(), ok bool, err error)
}

// Scheduler generates the bulletins of every kind and scope at At after
// local midnight on the day each period ends, in the district's time
// zone. Each pass runs in the process holding the lock and generates what
// is due and not stored, so a process started after downtime catches up:
// the latest due period and every one before it whose time came within
// CatchUp.
type Scheduler struct {
	Service *Service
	Lock    Locker
	Kinds   []Kind
	// Scopes lists the scopes to generate, read at each pass (the grid
	// map may change).
	Scopes  func() []Scope
	At      time.Duration
	CatchUp time.Duration
	Every   time.Duration // between passes (default 1 min)
	Logger  *slog.Logger
}

// RunOnce makes one pass and returns how many bulletins it stored; a
// process without the lock stores none.
func (s *Scheduler) RunOnce(ctx context.Context) (int, error) {
	unlock, ok, err := s.Lock.TryLock(ctx)
	if err != nil || !ok {
		return 0, err
	}
	defer unlock()
	loc, err := s.Service.TimeZone(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Service.Now()
	stored := 0
	for _, kind := range s.Kinds {
		for _, scope := range s.Scopes() {
			for _, p := range s.due(kind, now, loc) {
				exists, err := s.Service.Store.Exists(ctx, kind, scope.String(), p.Label)
				if err != nil {
					return stored, err
				}
				if exists {
					continue
				}
				_, created, err := s.Service.Generate(ctx, scope, p, "scheduler")
				if err != nil {
					return stored, err
				}
				if created {
					stored++
				}
			}
		}
	}
	return stored, nil
}

// due lists the periods whose bulletin is due by now, oldest first: the
// latest due one and those before it due within CatchUp; the caller
// skips the stored ones.
func (s *Scheduler) due(kind Kind, now time.Time, loc *time.Location) []Period {
	p := PeriodAt(kind, now, loc).Prev()
	for p.DueAt(s.At).After(now) {
		p = p.Prev()
	}
	out := []Period{p}
	for q := p.Prev(); now.Sub(q.DueAt(s.At)) <= s.CatchUp; q = q.Prev() {
		out = append(out, q)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Run makes a pass at once and then every Every until ctx ends, logging
// what each stored and any failure.
func (s *Scheduler) Run(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := s.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.Logger.ErrorContext(ctx, "bulletins: scheduled pass failed", "err", err)
		case n > 0:
			s.Logger.InfoContext(ctx, "bulletins: stored", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
