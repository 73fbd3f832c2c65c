package snapshot

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
)

// Keeper keeps the snapshot in Dir fresh: it writes one every Every, or
// once Changes changes have been applied since the last, and when told to
// (Write, on a graceful shutdown).
//
// Writing blocks nobody for long: the position is read first, then the
// case index is copied column by column under its read lock
// (caseindex.Index.Freeze: memory copies into memory made ready before the
// lock, 10 ms a million cases, during which changes wait but readers do
// not), and the copy is encoded and written with no lock held. Reading the position
// before the copy means the snapshot holds every change up to it, and
// perhaps later ones, which a replay applies again harmlessly. The grid
// locator never changes once built, so it is written as it is.
type Keeper struct {
	Dir      string
	Database string
	CellRes  int
	// Position is the change-feed position the indexes hold every change
	// up to.
	Position func() uint64
	Cases    *caseindex.Index
	Grids    *grid.Index
	// Every is the longest time between snapshots of a changing index
	// (default 10 minutes); Changes the most changes (default 100,000),
	// looked at every Check (default 10 s).
	Every   time.Duration
	Changes uint64
	Check   time.Duration
	Logger  *slog.Logger

	mu          sync.Mutex // one write at a time
	written     bool
	lastVersion uint64
	lastPos     uint64
	lastAt      time.Time
}

// Run writes snapshots until ctx ends. With writeFirst (the indexes were
// loaded in full, or the snapshot is old), it writes one at once.
func (k *Keeper) Run(ctx context.Context, writeFirst bool) {
	every, changes, check := k.Every, k.Changes, k.Check
	if every <= 0 {
		every = 10 * time.Minute
	}
	if changes == 0 {
		changes = 100_000
	}
	if check <= 0 {
		check = 10 * time.Second
	}
	k.mu.Lock()
	k.lastVersion, k.lastPos, k.lastAt = k.Cases.Version(), k.Position(), time.Now()
	k.written = !writeFirst
	k.mu.Unlock()
	t := time.NewTicker(check)
	defer t.Stop()
	for {
		k.mu.Lock()
		due := !k.written || k.Cases.Version()-k.lastVersion >= changes ||
			time.Since(k.lastAt) >= every && k.changedLocked()
		k.mu.Unlock()
		if due {
			if err := k.Write(); err != nil && ctx.Err() == nil {
				k.Logger.Error("writing the snapshot", "err", err, "dir", k.Dir)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (k *Keeper) changedLocked() bool {
	return !k.written || k.Cases.Version() != k.lastVersion || k.Position() != k.lastPos
}

// Write writes a snapshot now, unless nothing changed since the last one.
func (k *Keeper) Write() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.changedLocked() {
		return nil
	}
	start := time.Now()
	pos := k.Position() // before the copy: see Keeper
	version := k.Cases.Version()
	frozen := k.Cases.Freeze()
	held := time.Since(start)
	var loc *grid.Locator
	if k.Grids != nil {
		loc = k.Grids.Locator()
	}
	size, err := Write(k.Dir, Meta{Position: pos, Database: k.Database, CellRes: k.CellRes, CreatedAt: start}, loc, frozen)
	if err != nil {
		return err
	}
	k.written, k.lastVersion, k.lastPos, k.lastAt = true, version, pos, start
	k.Logger.Info("snapshot written", "cases", frozen.Len(), "position", pos, "bytes", size,
		"copy", held.Round(time.Millisecond), "elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}
