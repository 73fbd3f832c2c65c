package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/position"
)

// ChangesChannel wakes the processes following the change feed (migration
// 011's trigger notifies it once per writing transaction). The payload is
// empty: the log, not the notification, says what changed.
const ChangesChannel = "citygrid_changes"

// horizonSQL is the position of the change feed as of the statement's
// snapshot: every transaction below it has ended (see migration 011).
const horizonSQL = `pg_snapshot_xmin(pg_current_snapshot())::text::bigint`

// currentXactSQL is the id of the writing transaction (assigned by its
// first write, which the trigger logged).
const currentXactSQL = `SELECT pg_current_xact_id()::text::bigint`

// readChangesSQL reads the cases changed by the transactions from $1 up to
// the horizon, in their order (xid, seq), with the horizon and how far the
// log was pruned. One statement: one snapshot, in which every row below its
// horizon is visible.
const readChangesSQL = `
WITH h AS MATERIALIZED (SELECT ` + horizonSQL + ` AS upto, (SELECT pruned_upto FROM case_change_log) AS pruned)
SELECT h.upto, h.pruned, c.case_id
FROM h LEFT JOIN case_changes c ON c.xid >= $1 AND c.xid < h.upto
ORDER BY c.xid, c.seq`

// ReadChanges returns the ids of the cases changed by transactions from
// position from up to the feed's horizon (each once, in the order of their
// first change), and that horizon. gap reports that rows from from on may
// have been pruned: the caller must load everything again (LoadCases).
func (s *CaseStore) ReadChanges(ctx context.Context, from uint64) (ids []int64, horizon uint64, gap bool, err error) {
	rows, err := s.db.Query(ctx, readChangesSQL, int64(from))
	if err != nil {
		return nil, 0, false, fmt.Errorf("read change feed: %w", err)
	}
	var (
		upto, pruned int64
		id           *int64
		seen         = map[int64]bool{}
	)
	if _, err := pgx.ForEachRow(rows, []any{&upto, &pruned, &id}, func() error {
		if id != nil && !seen[*id] {
			seen[*id] = true
			ids = append(ids, *id)
		}
		return nil
	}); err != nil {
		return nil, 0, false, fmt.Errorf("read change feed: %w", err)
	}
	if uint64(upto) < from {
		// Positions only grow: a horizon below one seen before is another
		// database (or a restored one).
		return nil, uint64(upto), true, nil
	}
	return ids, uint64(upto), uint64(pruned) > from, nil
}

const findCasesByIDSQL = `SELECT ` + caseColumns + ` FROM cases c WHERE c.id = ANY($1)`

// FindCasesByID returns the stored cases of ids, in no order; ids not
// stored are left out.
func (s *CaseStore) FindCasesByID(ctx context.Context, ids []int64) ([]*cases.Case, error) {
	rows, err := s.db.Query(ctx, findCasesByIDSQL, ids)
	if err != nil {
		return nil, fmt.Errorf("find cases: %w", err)
	}
	defer rows.Close()
	var out []*cases.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, fmt.Errorf("find cases: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// loadCasesSQL reads every case with the feed's horizon, in one statement
// (one snapshot): the index it fills holds every change below the horizon.
const loadCasesSQL = `
WITH h AS MATERIALIZED (SELECT ` + horizonSQL + ` AS upto)
SELECT h.upto, c.id, ST_X(c.geom), ST_Y(c.geom), c.reported_at, CASE WHEN c.paused_at IS NULL THEN c.due_at END,
       c.category, c.status, c.priority, c.source, COALESCE(c.unit, ''), COALESCE(c.grid, ''), c.merged_into IS NOT NULL
FROM h LEFT JOIN cases c ON true`

// LoadCases reads every case into a new index, built aside (nobody reads
// it yet), and returns it with the position it holds: a follower of the
// feed goes on from there.
func (s *CaseStore) LoadCases(ctx context.Context) (*caseindex.Index, uint64, error) {
	fresh := caseindex.New()
	fresh.BeginLoad()
	rows, err := s.db.Query(ctx, loadCasesSQL)
	if err != nil {
		return nil, 0, fmt.Errorf("load case index: %w", err)
	}
	defer rows.Close()
	var (
		upto int64
		id   *int64
		// A table without cases gives one row of NULLs beside the horizon.
		lng, lat                        *float64
		t, due                          *time.Time
		cat, status, src, unit, gridTxt *string
		prio                            *int
		merged                          *bool
	)
	for rows.Next() {
		if err := rows.Scan(&upto, &id, &lng, &lat, &t, &due, &cat, &status, &prio, &src, &unit, &gridTxt, &merged); err != nil {
			return nil, 0, fmt.Errorf("load case index: %w", err)
		}
		if id == nil {
			continue
		}
		c := caseindex.Entry{ID: *id, Location: orb.Point{*lng, *lat}, ReportedAt: *t, Category: *cat, Status: cases.Status(*status),
			Priority: *prio, Source: *src, Unit: *unit, Grid: *gridTxt, Merged: *merged}
		if due != nil {
			c.DueAt = *due
		}
		if _, err := fresh.Apply(c); err != nil {
			return nil, 0, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("load case index: %w", err)
	}
	return fresh, uint64(upto), nil
}

// pruneChangesSQL drops the rows older than $1 of transactions below the
// horizon, and moves pruned_upto past them: a follower behind it resyncs.
const pruneChangesSQL = `
WITH d AS (
    DELETE FROM case_changes WHERE at < now() - $1::interval AND xid < ` + horizonSQL + `
    RETURNING xid
), m AS (SELECT max(xid) + 1 AS upto, count(*) AS n FROM d)
UPDATE case_change_log SET pruned_upto = GREATEST(pruned_upto, COALESCE(m.upto, 0)) FROM m
RETURNING m.n`

// PruneChanges drops the change feed's rows older than age and returns how
// many it dropped.
func (s *CaseStore) PruneChanges(ctx context.Context, age time.Duration) (int64, error) {
	var n int64
	if err := s.db.QueryRow(ctx, pruneChangesSQL, age).Scan(&n); err != nil {
		return 0, fmt.Errorf("prune change feed: %w", err)
	}
	return n, nil
}

// FeedPosition is the change feed's horizon now: every change below it
// has committed (or never will).
func (s *CaseStore) FeedPosition(ctx context.Context) (uint64, error) {
	var p int64
	if err := s.db.QueryRow(ctx, `SELECT `+horizonSQL).Scan(&p); err != nil {
		return 0, fmt.Errorf("change feed position: %w", err)
	}
	return uint64(p), nil
}

// FeedBounds returns the oldest position from which the change log still
// holds every change (below it, rows may be pruned) and its horizon now:
// a snapshot outside them cannot be brought up to date from the log.
func (s *CaseStore) FeedBounds(ctx context.Context) (oldest, head uint64, err error) {
	var o, h int64
	if err := s.db.QueryRow(ctx, `SELECT (SELECT pruned_upto FROM case_change_log), `+horizonSQL).Scan(&o, &h); err != nil {
		return 0, 0, fmt.Errorf("change feed bounds: %w", err)
	}
	return uint64(o), uint64(h), nil
}

// databaseIdentitySQL names this database: the cluster's system identifier
// (new at every initdb) and the id migration 011 drew (new in every
// database made), so that a snapshot taken of another database, or of this
// one before it was reset, is told apart.
const databaseIdentitySQL = `SELECT (SELECT system_identifier FROM pg_control_system())::text || '/' || database_id::text FROM case_change_log`

// DatabaseIdentity returns "<system identifier>/<database id>"; positions
// are comparable only between equal identities.
func (s *CaseStore) DatabaseIdentity(ctx context.Context) (string, error) {
	var id string
	if err := s.db.QueryRow(ctx, databaseIdentitySQL).Scan(&id); err != nil {
		return "", fmt.Errorf("database identity: %w", err)
	}
	return id, nil
}

// written returns the position a write in tx produces once committed: its
// transaction id plus one (see package position).
func written(ctx context.Context, tx pgx.Tx) (uint64, error) {
	var xid int64
	if err := tx.QueryRow(ctx, currentXactSQL).Scan(&xid); err != nil {
		return 0, fmt.Errorf("transaction id: %w", err)
	}
	return uint64(xid) + 1, nil
}

// record tells the request (if it keeps a note) the position it produced.
func record(ctx context.Context, p uint64) { position.Record(ctx, p) }
