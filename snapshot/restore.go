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
	Dir    string // empty: snapshots off
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

	started time.Time
	snap    *Snapshot
	reason  error
	read    time.Duration
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

// ErrOff is the reason no snapshot is used when there is no directory for
// them (Dir empty).
var ErrOff = errors.New("snapshots off")

// Run readies the indexes: Load, RestoreGrids and RestoreCases. A process
// that starts other things between them (listeners before each index is
// read, as serve does) calls them one by one.
func (r *Restore) Run(ctx context.Context) (Result, error) {
	r.Load()
	if err := r.RestoreGrids(ctx); err != nil {
		return Result{}, err
	}
	return r.RestoreCases(ctx)
}

// Load reads the snapshot, if there is a change feed to bring it up to
// date, and keeps it (or why it is not used) for the steps after.
func (r *Restore) Load() {
	r.started = time.Now()
	r.reason = ErrNoFeed
	if r.Dir == "" {
		r.reason = ErrOff
	} else if r.ReplayFrom != nil {
		r.snap, r.reason = Load(r.Dir, r.Expect)
	}
	r.read = time.Since(r.started)
}

// RestoreGrids builds the grid index, with the snapshot's cell index when
// it fits the stored grids.
func (r *Restore) RestoreGrids(ctx context.Context) error {
	var built *grid.Built
	if r.snap != nil {
		built = r.snap.Grids
	}
	start := time.Now()
	gridReason, err := r.Grids(ctx, built)
	if err != nil {
		return err
	}
	if gridReason == nil {
		r.Logger.Info("grid index from the snapshot's cell index", "elapsed", time.Since(start).Round(time.Millisecond))
	} else if r.snap != nil {
		r.Logger.Info("grid index built: the snapshot's cell index does not fit", "reason", gridReason.Error())
	}
	return nil
}

// RestoreCases readies the case index: the snapshot's, swapped in whole,
// then the change feed's tail after its position; or, when there is no
// usable snapshot or the replay fails, a full load, said in one log line
// with the reason. Changes applied to Cases meanwhile (by listeners started
// before, as they must be) are kept: they are in the snapshot, or after its
// position and so replayed, or kept by FullLoad's swap.
func (r *Restore) RestoreCases(ctx context.Context) (Result, error) {
	start := time.Now()
	reason := r.reason
	if snap := r.snap; snap != nil {
		r.snap = nil // the live index takes its columns
		r.Cases.Replace(snap.Cases)
		err := r.ReplayFrom(ctx, snap.Position)
		if err == nil {
			r.Logger.Info("case index restored from the snapshot", "cases", r.Cases.Len(), "position", snap.Position,
				"made", snap.CreatedAt.UTC().Format(time.RFC3339), "bytes", snap.Bytes,
				"read", r.read.Round(time.Millisecond), "replayed", time.Since(start).Round(time.Millisecond))
			return Result{FromSnapshot: true, Position: snap.Position}, nil
		}
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		reason = fmt.Errorf("replaying the change feed from position %d: %w", snap.Position, err)
	}
	level := slog.LevelWarn
	if errors.Is(reason, ErrMissing) || errors.Is(reason, ErrNoFeed) || errors.Is(reason, ErrOff) {
		level = slog.LevelInfo
	}
	r.Logger.Log(ctx, level, "case index: snapshot not used, full load from the database", "reason", reason.Error(), "dir", r.Dir)
	if err := r.FullLoad(ctx); err != nil {
		return Result{}, err
	}
	return Result{Reason: reason}, nil
}
