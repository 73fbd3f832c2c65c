package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/snapshot"
)

// snapshotFeed is what snapshots need of the change feed. The feed's wiring
// in serve fills it; without a feed (ReplayFrom nil) a snapshot cannot be
// brought up to date, so every start is a full load and none is written.
type snapshotFeed struct {
	// Database is the database's identity: a snapshot of another (a
	// database reset or replaced since) is refused.
	Database string
	// Position is the change-feed position the indexes hold every change
	// up to.
	Position func() uint64
	// ReplayFrom applies to the indexes every change after position, in
	// commit order, and returns once it has.
	ReplayFrom func(ctx context.Context, position uint64) error
	// Bounds returns the oldest position the change log still holds and
	// its newest (0 for either: not known); nil: neither known.
	Bounds func(ctx context.Context) (oldest, head uint64, err error)
	// MaxAge is how long the change log is kept (0: 24 h).
	MaxAge time.Duration
}

// snapshots runs serve's snapshot steps: read at start, build the grid
// index with it, restore the case index from it and the feed, keep it
// fresh, write it once more at shutdown.
type snapshots struct {
	restore snapshot.Restore
	keeper  *snapshot.Keeper
	e       *env
	stop    context.CancelFunc // ends the keeper's loop
	done    chan struct{}      // closed when it has ended
}

// snapshotDir is where serve keeps its snapshot: -snapshot-dir, or beside
// the private cluster's directory (.citygrid/snapshots; as root,
// <data-dir>.snapshots, since the cluster's directory is the postgres
// user's); "" when off.
func (c *Config) snapshotDir() string {
	switch c.SnapshotDir {
	case "none":
		return ""
	case "":
		if filepath.Base(c.DataDir) == "pgdata" {
			return filepath.Join(filepath.Dir(c.DataDir), "snapshots")
		}
		return filepath.Clean(c.DataDir) + ".snapshots"
	}
	return c.SnapshotDir
}

// startSnapshots reads the snapshot, before any index is built.
func startSnapshots(ctx context.Context, cfg *Config, e *env, feed snapshotFeed, grids *grid.Index, store grid.Store) (*snapshots, error) {
	s := &snapshots{e: e}
	s.restore = snapshot.Restore{
		Dir:    cfg.snapshotDir(),
		Expect: snapshot.Expect{Database: feed.Database, CellRes: grid.CellRes, MaxAge: feed.MaxAge},
		Grids: func(ctx context.Context, built *grid.Built) (error, error) {
			return grids.RebuildReusing(ctx, store, built)
		},
		ReplayFrom: feed.ReplayFrom,
		Logger:     e.logger,
	}
	if feed.Bounds != nil && feed.ReplayFrom != nil {
		oldest, head, err := feed.Bounds(ctx)
		if err != nil {
			return nil, fmt.Errorf("snapshot: the change log's bounds: %w", err)
		}
		s.restore.Expect.Oldest, s.restore.Expect.Head = oldest, head
	}
	if s.restore.Dir != "" && feed.ReplayFrom != nil && feed.Position != nil {
		s.keeper = &snapshot.Keeper{Dir: s.restore.Dir, Database: feed.Database, CellRes: grid.CellRes,
			Position: feed.Position, Grids: grids, Every: cfg.SnapshotEvery, Logger: e.logger}
	}
	s.restore.Load()
	return s, nil
}

// rebuildGrids builds the grid index, reusing the snapshot's cell index
// when the stored grids are those it was built from.
func (s *snapshots) rebuildGrids(ctx context.Context) error { return s.restore.RestoreGrids(ctx) }

// loadCases readies cases from the snapshot and the feed's tail, or with
// fullLoad (which builds aside and swaps), and starts keeping the snapshot
// fresh until ctx ends.
func (s *snapshots) loadCases(ctx context.Context, cases *caseindex.Index, fullLoad func(context.Context) error) error {
	s.restore.Cases, s.restore.FullLoad = cases, fullLoad
	res, err := s.restore.RestoreCases(ctx)
	if err != nil {
		return err
	}
	if s.keeper != nil {
		s.keeper.Cases = cases
		ctx, s.stop = context.WithCancel(ctx)
		s.done = make(chan struct{})
		go func() {
			defer close(s.done)
			s.keeper.Run(ctx, !res.FromSnapshot) // a full load is worth a snapshot at once
		}()
	}
	return nil
}

// close writes the snapshot once more, on a graceful shutdown, so that the
// next start replays nothing.
func (s *snapshots) close() {
	if s.done == nil {
		return
	}
	s.stop()
	<-s.done
	if err := s.keeper.Write(); err != nil {
		s.e.logger.Error("writing the snapshot at shutdown", "err", err, "dir", s.restore.Dir)
	}
}
