package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/position"
)

// ReplicaReads sends reads to streaming replicas and everything else to the
// primary. A read goes to a replica only once the replica has replayed the
// position the request named (position.Required): it waits up to 2 s for
// replay, then reads from the primary; a replica that cannot be reached or
// cancels the query (a conflict with recovery) is passed over for the
// primary too. Writes (Begin, Exec, CopyFrom) always go to the primary, so
// a store over ReplicaReads must only read outside its transactions what
// may lag behind — area queries, exports, statistics, index loads.
type ReplicaReads struct {
	primary  DBTX
	replicas []*pgxpool.Pool
	wait     time.Duration
	next     atomic.Uint32 // round robin over the replicas
}

// NewReplicaReads reads from replicas (none: everything goes to primary).
func NewReplicaReads(primary DBTX, replicas []*pgxpool.Pool) *ReplicaReads {
	return &ReplicaReads{primary: primary, replicas: replicas, wait: 2 * time.Second}
}

// replayedSQL is a replica's horizon: every transaction before it has been
// replayed (committed or not), as a standby's snapshots see them — the
// same horizon the change feed's positions are (see package position).
const replayedSQL = `SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint`

// reader picks the replica for ctx's read, or nil for the primary.
func (rr *ReplicaReads) reader(ctx context.Context) *pgxpool.Pool {
	if len(rr.replicas) == 0 {
		return nil
	}
	replica := rr.replicas[int(rr.next.Add(1))%len(rr.replicas)]
	need := position.Required(ctx)
	deadline := time.Now().Add(rr.wait)
	for {
		var horizon uint64
		if err := replica.QueryRow(ctx, replayedSQL).Scan(&horizon); err != nil {
			return nil
		}
		if horizon >= need {
			return replica
		}
		if time.Now().After(deadline) {
			return nil // replay lags (or is paused): the primary has it
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// fellOver reports whether a replica's error means: ask the primary
// instead (unreachable, or the query was cancelled by replay).
func fellOver(err error) bool {
	var pe *pgconn.PgError
	return Unavailable(err) || (errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "57014"))
}

// Query reads from a replica that has what ctx needs, else the primary.
func (rr *ReplicaReads) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if replica := rr.reader(ctx); replica != nil {
		rows, err := replica.Query(ctx, sql, args...)
		if err == nil || !fellOver(err) {
			return rows, err
		}
	}
	return rr.primary.Query(ctx, sql, args...)
}

// QueryRow reads one row from a replica that has what ctx needs, else the
// primary.
func (rr *ReplicaReads) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return replicaRow{rr: rr, ctx: ctx, sql: sql, args: args}
}

type replicaRow struct {
	rr   *ReplicaReads
	ctx  context.Context
	sql  string
	args []any
}

func (r replicaRow) Scan(dest ...any) error {
	if replica := r.rr.reader(r.ctx); replica != nil {
		err := replica.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...)
		if err == nil || !fellOver(err) {
			return err
		}
	}
	return r.rr.primary.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...)
}

// Begin starts a transaction on the primary.
func (rr *ReplicaReads) Begin(ctx context.Context) (pgx.Tx, error) { return rr.primary.Begin(ctx) }

// Exec runs a statement on the primary.
func (rr *ReplicaReads) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return rr.primary.Exec(ctx, sql, args...)
}

// CopyFrom copies into the primary.
func (rr *ReplicaReads) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error) {
	return rr.primary.CopyFrom(ctx, table, columns, src)
}
