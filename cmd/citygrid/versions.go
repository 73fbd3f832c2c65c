package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"citygrid/grid"
	"citygrid/live"
	"citygrid/postgres"
)

// importDraft stores FILE as a draft grid version (import grids --draft
// FILE) and prints its id, rejections and diff against the grids in force.
// Activating it is POST /v1/grid-versions/{id}/activate.
func importDraft(ctx context.Context, cfg *Config, path string, e *env) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	in, err := grid.ParseDraft(r)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	pool, closeDB, err := openDatabase(ctx, cfg, e)
	if err != nil {
		return err
	}
	defer closeDB()
	vs := postgres.NewVersionStore(pool)
	v, err := vs.CreateDraft(ctx, in)
	if err != nil {
		return err
	}
	for _, r := range v.Rejected {
		fmt.Fprintf(e.stderr, "feature %d (%s): %s\n", r.Index, r.Code, r.Reason)
	}
	fmt.Fprintf(e.stdout, "draft grid version %d: %d features, %d rejected\n", v.ID, v.Features, len(v.Rejected))
	d, err := vs.VersionDiff(ctx, v.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "against version %d: %d added, %d removed, %d reshaped, %d renamed, %d recoded, %d merges, %d splits, %d unchanged\n",
		d.Against, len(d.Added), len(d.Removed), len(d.Reshaped), len(d.Renamed), len(d.Recoded), len(d.Merges), len(d.Splits), d.Unchanged)
	if len(v.Rejected) > 0 {
		return fmt.Errorf("%d of %d features rejected: the draft is stored but cannot be activated", len(v.Rejected), v.Features)
	}
	return nil
}

// versionScheduler switches this process to a scheduled grid version at
// its effective time and, if this process wins the advisory lock, applies
// it to the database (grids, open cases, references) once for all. wake
// is poked when grids change elsewhere (a version scheduled, applied).
type versionScheduler struct {
	versions *postgres.VersionStore
	grids    *postgres.GridStore
	cases    *postgres.CaseStore
	index    *grid.Index
	hub      *live.Hub
	e        *env
	wake     chan struct{}
}

// poll bounds how long a missed wake-up delays the switch.
const versionPoll = 30 * time.Second

func (s *versionScheduler) run(ctx context.Context) {
	for ctx.Err() == nil {
		wait := versionPoll
		v, l, err := s.versions.Scheduled(ctx)
		if err != nil {
			s.e.logger.Error("grid versions: reading the scheduled version", "err", err)
		} else if v != nil {
			if until := time.Until(*v.EffectiveAt); until > 0 {
				wait = min(until, wait)
			} else {
				s.switchTo(ctx, v, l)
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-time.After(wait):
		}
	}
}

// switchTo puts v's locator in this process's index at once, then applies
// v if this process holds the lock; the others rebuild from the database
// when the winner's notification arrives (and after a while regardless,
// should the winner have failed).
func (s *versionScheduler) switchTo(ctx context.Context, v *grid.Version, l *grid.Locator) {
	s.index.Set(l)
	s.e.logger.Info("grid version in force", "version", v.ID, "effective_at", v.EffectiveAt)
	acts, err := s.versions.ApplyDue(ctx, time.Now())
	if err != nil {
		s.e.logger.Error("grid versions: applying a scheduled version", "version", v.ID, "err", err)
	}
	if len(acts) == 0 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(versionPoll):
		}
	}
	if err := s.index.Rebuild(ctx, s.grids); err != nil && ctx.Err() == nil {
		s.e.logger.Error("grid versions: rebuilding the grid index", "err", err)
	}
	for _, a := range acts {
		s.e.logger.Info("grid version applied", "version", a.Version.ID, "reattributed", a.Reattributed, "rewritten", len(a.Rewritten))
		// The re-attributed cases reach every process's case index through
		// the change feed, this one's too.
	}
}
