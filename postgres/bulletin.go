package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid"
	"citygrid/access"
	"citygrid/bulletin"
)

// BulletinStore implements bulletin.Store. Bulletins are records: this
// store has no statement that changes or deletes one, and the database
// refuses them (migration 015's trigger).
type BulletinStore struct {
	db DBTX
}

var _ bulletin.Store = (*BulletinStore)(nil)

// NewBulletinStore returns a store on db.
func NewBulletinStore(db DBTX) *BulletinStore { return &BulletinStore{db: db} }

const bulletinColumns = `kind, scope, period, revision, period_start, period_end, generated_at, generated_by, reason`

// insertBulletinSQL stores revision 1 unless it is stored: two processes
// generating the same bulletin store it once.
const insertBulletinSQL = `
INSERT INTO bulletins (` + bulletinColumns + `, body) VALUES ($1, $2, $3, 1, $4, $5, $6, $7, '', $8)
ON CONFLICT (kind, scope, period, revision) DO NOTHING`

// Insert implements bulletin.Store.
func (s *BulletinStore) Insert(ctx context.Context, r *bulletin.Record) (*bulletin.Record, bool, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("insert bulletin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
	tag, err := tx.Exec(ctx, insertBulletinSQL, r.Kind, r.Scope, r.Period, r.From, r.To, r.GeneratedAt, r.GeneratedBy, string(r.Body))
	if err != nil {
		return nil, false, fmt.Errorf("insert bulletin %s %s %s: %w", r.Kind, r.Scope, r.Period, err)
	}
	created := tag.RowsAffected() == 1
	if created {
		if err := audit(ctx, tx, access.Entry{Action: "bulletin.generate", ObjectType: "bulletin",
			ObjectID: bulletinID(r.Kind, r.Scope, r.Period, 1), Detail: r.GeneratedBy}); err != nil {
			return nil, false, err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, false, fmt.Errorf("insert bulletin: %w", err)
	}
	stored, err := s.Find(ctx, r.Kind, r.Scope, r.Period, 1)
	return stored, created, err
}

// lockBulletinKeySQL serialises corrections of one bulletin (the next
// revision is read, then written) within the transaction.
const lockBulletinKeySQL = `SELECT pg_advisory_xact_lock(hashtextextended($1, 15))`

const nextRevisionSQL = `SELECT COALESCE(max(revision), 0) + 1 FROM bulletins WHERE kind = $1 AND scope = $2 AND period = $3`

const insertCorrectionSQL = `
INSERT INTO bulletins (` + bulletinColumns + `, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`

// InsertCorrection implements bulletin.Store.
func (s *BulletinStore) InsertCorrection(ctx context.Context, r *bulletin.Record, build func(revision int) ([]byte, error)) (*bulletin.Record, error) {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("correct bulletin: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit a no-op
	key := bulletinID(r.Kind, r.Scope, r.Period, 0)
	if _, err := tx.Exec(ctx, lockBulletinKeySQL, key); err != nil {
		return nil, fmt.Errorf("correct bulletin: %w", err)
	}
	if err := tx.QueryRow(ctx, nextRevisionSQL, r.Kind, r.Scope, r.Period).Scan(&r.Revision); err != nil {
		return nil, fmt.Errorf("correct bulletin: %w", err)
	}
	if r.Body, err = build(r.Revision); err != nil {
		return nil, fmt.Errorf("correct bulletin: %w", err)
	}
	if _, err := tx.Exec(ctx, insertCorrectionSQL, r.Kind, r.Scope, r.Period, r.Revision, r.From, r.To, r.GeneratedAt, r.GeneratedBy,
		r.Reason, string(r.Body)); err != nil {
		return nil, translateWriteError("correct bulletin", err)
	}
	if err := audit(ctx, tx, access.Entry{Action: "bulletin.correct", ObjectType: "bulletin",
		ObjectID: bulletinID(r.Kind, r.Scope, r.Period, r.Revision), Detail: r.Reason}); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("correct bulletin: %w", err)
	}
	return s.Find(ctx, r.Kind, r.Scope, r.Period, r.Revision)
}

// findBulletinSQL reads one revision, or the latest with $4 = 0.
const findBulletinSQL = `
SELECT ` + bulletinColumns + `, body::text FROM bulletins
WHERE kind = $1 AND scope = $2 AND period = $3 AND ($4 = 0 OR revision = $4)
ORDER BY revision DESC LIMIT 1`

// Find implements bulletin.Store.
func (s *BulletinStore) Find(ctx context.Context, kind bulletin.Kind, scope, period string, revision int) (*bulletin.Record, error) {
	var body string
	r, err := scanBulletin(s.db.QueryRow(ctx, findBulletinSQL, kind, scope, period, revision), &body)
	if errors.Is(err, pgx.ErrNoRows) {
		what := "no " + string(kind) + " bulletin of " + scope + " for " + period
		if revision > 0 {
			what += " at revision " + strconv.Itoa(revision)
		}
		return nil, citygrid.Errorf(citygrid.CodeNotFound, "%s", what)
	} else if err != nil {
		return nil, fmt.Errorf("find bulletin: %w", err)
	}
	r.Body = []byte(body)
	return r, nil
}

func scanBulletin(row pgx.Row, extra ...any) (*bulletin.Record, error) {
	var r bulletin.Record
	var kind string
	dest := append([]any{&kind, &r.Scope, &r.Period, &r.Revision, &r.From, &r.To, &r.GeneratedAt, &r.GeneratedBy, &r.Reason}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	r.Kind = bulletin.Kind(kind)
	return &r, nil
}

const bulletinExistsSQL = `SELECT EXISTS (SELECT 1 FROM bulletins WHERE kind = $1 AND scope = $2 AND period = $3)`

// Exists implements bulletin.Store.
func (s *BulletinStore) Exists(ctx context.Context, kind bulletin.Kind, scope, period string) (bool, error) {
	var ok bool
	if err := s.db.QueryRow(ctx, bulletinExistsSQL, kind, scope, period).Scan(&ok); err != nil {
		return false, fmt.Errorf("bulletin exists: %w", err)
	}
	return ok, nil
}

// listBulletinsSQL lists the latest revision of each bulletin.
const listBulletinsSQL = `
SELECT DISTINCT ON (period_start, kind, scope) ` + bulletinColumns + ` FROM bulletins
WHERE ($1 = '' OR kind = $1) AND ($2 = '' OR scope = $2)
  AND ($3::timestamptz IS NULL OR period_start >= $3) AND ($4::timestamptz IS NULL OR period_start < $4)
ORDER BY period_start DESC, kind, scope, revision DESC
LIMIT $5`

// List implements bulletin.Store.
func (s *BulletinStore) List(ctx context.Context, f bulletin.Filter) ([]*bulletin.Record, error) {
	rows, err := s.db.Query(ctx, listBulletinsSQL, string(f.Kind), f.Scope, f.From, f.To, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list bulletins: %w", err)
	}
	defer rows.Close()
	out := []*bulletin.Record{}
	for rows.Next() {
		r, err := scanBulletin(rows)
		if err != nil {
			return nil, fmt.Errorf("list bulletins: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// schedulerLockID is the advisory lock of the process that runs scheduled
// jobs (migrations hold migrationLockID).
const schedulerLockID = 0x6369_7479_1800

// Locker implements bulletin.Locker with a session advisory lock on a
// connection of its own, held for one pass.
type Locker struct {
	Pool *pgxpool.Pool
}

// TryLock implements bulletin.Locker.
func (l *Locker) TryLock(ctx context.Context) (func(), bool, error) {
	conn, err := l.Pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("scheduler lock: %w", err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(schedulerLockID)).Scan(&ok); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("scheduler lock: %w", err)
	}
	if !ok {
		conn.Release()
		return nil, false, nil
	}
	return func() {
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(schedulerLockID)); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) //nolint:errcheck // a closed session drops its locks
		}
		conn.Release()
	}, true, nil
}

// bulletinID names a bulletin in the audit trail.
func bulletinID(kind bulletin.Kind, scope, period string, revision int) string {
	return string(kind) + "/" + scope + "/" + period + "/" + strconv.Itoa(revision)
}
