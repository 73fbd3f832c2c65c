package snapshot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"citygrid/caseindex"
	"citygrid/grid"
)

// Restore readies a starting process's indexes: from the snapshot and the
// change feed's tail when it can, otherwise by a full load from the
// database, saying why in one log line.
type Restore struct {
	Dir    string
	Expect Expect
	// Cases is the live case index; it is replaced whole (by the
	// snapshot's index, or by FullLoad's), never merged into.
	Cases *caseindex.Index
	// Grids rebuilds the grid index from the database, reusing built's
	// cell index when it was made from the same grids (built is nil
	// without a snapshot): grid.Index.RebuildReusing. reason says why
	// built was not used.
	Grids func(ctx context.Context, built *grid.Built) (reason error, err error)
	// FullLoad reads every case into a fresh index and swaps it into Cases
	// (postgres.CaseStore.LoadCaseIndex).
	FullLoad func(ctx context.Context) error
	// ReplayFrom applies to Cases every change after position, in commit
	// order, and returns once it has. Without it (nil) a snapshot cannot
	// be brought up to date, and is not used.
	ReplayFrom func(ctx context.Context, position uint64) error
	Logger     *slog.Logger
}

// Result says how the indexes were readied.
type Result struct {
	// FromSnapshot is set when the case index came from the snapshot at
	// Position and the changes since were replayed.
	FromSnapshot bool
	Position     uint64
	// Reason is why the case index was loaded in full (nil otherwise).
	Reason error
}

// ErrNoFeed is the reason no snapshot is used when there is no change feed
// to replay its tail from.
var ErrNoFeed = errors.New("no change feed to replay a snapshot's tail from")

// Run readies the indexes. Changes applied to Cases while it runs (by
// listeners started before it, as they must be) survive the swap.
func (r *Restore) Run(ctx context.Context) (Result, error) {
	start := time.Now()
	r.Cases.BeginReload()
	var snap *Snapshot
	reason := ErrNoFeed
	if r.ReplayFrom != nil {
		snap, reason = Load(r.Dir, r.Expect)
	}
	var built *grid.Built
	if snap != nil {
		built = snap.Grids
	}
	gridReason, err := r.Grids(ctx, built)
	if err != nil {
		return Result{}, err
	}
	if gridReason == nil {
		r.Logger.Info("grid index from the snapshot's cell index", "elapsed", time.Since(start).Round(time.Millisecond))
	} else if snap != nil {
		r.Logger.Info("grid index built: the snapshot's cell index does not fit", "reason", gridReason.Error())
	}
	if snap != nil {
		r.Cases.Replace(snap.Cases)
		loaded := time.Since(start)
		err := r.ReplayFrom(ctx, snap.Position)
		if err == nil {
			r.Logger.Info("case index restored from the snapshot", "cases", r.Cases.Len(), "position", snap.Position,
				"made", snap.CreatedAt.UTC().Format(time.RFC3339), "bytes", snap.Bytes,
				"read", loaded.Round(time.Millisecond), "elapsed", time.Since(start).Round(time.Millisecond))
			return Result{FromSnapshot: true, Position: snap.Position}, nil
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		reason = fmt.Errorf("replaying the change feed from position %d: %w", snap.Position, err)
	}
	level := slog.LevelWarn
	if errors.Is(reason, ErrMissing) || errors.Is(reason, ErrNoFeed) {
		level = slog.LevelInfo
	}
	r.Logger.Log(ctx, level, "case index: snapshot not used, full load from the database", "reason", reason.Error(), "dir", r.Dir)
	if err := r.FullLoad(ctx); err != nil {
		return Result{}, err
	}
	return Result{Reason: reason}, nil
}
