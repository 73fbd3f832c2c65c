package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Unavailable reports whether err means the database could not be reached
// or went away under the statement — a restart, a crash, a fail-over —
// rather than refusing it: connecting failed, the server is shutting down
// or starting up (SQLSTATE 57P01–57P03, class 08), or the connection broke.
// Whatever the statement's transaction did was rolled back, except in the
// one case no client can tell apart: a connection lost during COMMIT.
func Unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false // the caller gave up (or its time ran out): not the database
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03", strings.HasPrefix(pe.Code, "08"):
			return true
		}
		return false
	}
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne)
}

// notSent reports whether err left the server untouched: no connection
// could be made, or the statement never left this process. Such a
// statement can always be sent again.
func notSent(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.SafeToRetry(err)
}

// Patient is a pool that rides out a restart of the database: a statement
// or transaction that could not even be sent (no connection: the server is
// restarting or recovering) is sent again, every 100–500 ms, for up to
// wait. Everything else — including a statement cut off mid-way, whose
// effect only its caller can judge — is returned as it came.
type Patient struct {
	db   DBTX
	wait time.Duration
}

// NewPatient wraps db (a pool); wait 0 means 15 s.
func NewPatient(db DBTX, wait time.Duration) *Patient {
	if wait <= 0 {
		wait = 15 * time.Second
	}
	return &Patient{db: db, wait: wait}
}

func (p *Patient) retry(ctx context.Context, fn func() error) error {
	return p.retryWhile(ctx, notSent, fn)
}

// retryWhile runs fn until it succeeds, fails otherwise than again says,
// ctx ends or the wait is over, pausing 100 ms, then up to 500 ms.
func (p *Patient) retryWhile(ctx context.Context, again func(error) bool, fn func() error) error {
	deadline := time.Now().Add(p.wait)
	pause := 100 * time.Millisecond
	for {
		err := fn()
		if err == nil || !again(err) || ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// Begin starts a transaction, waiting for the database if need be. Its
// Commit settles the one doubt a restart leaves (see settledTx).
func (p *Patient) Begin(ctx context.Context) (pgx.Tx, error) {
	var tx pgx.Tx
	err := p.retry(ctx, func() (err error) { tx, err = p.db.Begin(ctx); return err })
	if err != nil {
		return nil, err
	}
	return &settledTx{Tx: tx, p: p}, nil
}

// settledTx is a transaction whose Commit, when the connection breaks
// under it, finds out how the transaction ended instead of leaving the
// caller to guess: the server may have committed it just before it went
// down (a fast shutdown ends sessions right after their COMMIT), and a
// request run again then would apply it twice. It asks the transaction's
// id before COMMIT (one round trip) and, after a break, asks
// pg_xact_status once the database is back: committed is success; aborted
// is the break it was (safe to run again); anything else is an error that
// is not taken for a passing one.
type settledTx struct {
	pgx.Tx
	p *Patient
}

func (t *settledTx) Commit(ctx context.Context) error {
	var xid *string // NULL: nothing written, nothing to settle
	if err := t.Tx.QueryRow(ctx, `SELECT pg_current_xact_id_if_assigned()::text`).Scan(&xid); err != nil {
		return err // before COMMIT: the transaction rolled back
	}
	err := t.Tx.Commit(ctx)
	if err == nil || xid == nil || !Unavailable(err) {
		return err
	}
	var status *string
	deadline := time.Now().Add(t.p.wait)
	for {
		serr := t.p.db.QueryRow(ctx, `SELECT pg_xact_status($1::xid8)`, *xid).Scan(&status)
		if serr == nil && (status == nil || *status != "in progress") {
			break
		}
		if (serr != nil && !Unavailable(serr)) || time.Now().After(deadline) {
			return fmt.Errorf("commit of transaction %s cut off (%v), and its outcome unknown: %v", *xid, err, serr)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("commit of transaction %s cut off (%v), and its outcome unknown: %v", *xid, err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	switch {
	case status != nil && *status == "committed":
		return nil
	case status != nil && *status == "aborted":
		return err
	}
	return fmt.Errorf("commit of transaction %s cut off (%v), and its outcome unknown", *xid, err)
}

// Exec runs a statement, waiting for the database if need be.
func (p *Patient) Exec(ctx context.Context, sql string, args ...any) (tag pgconn.CommandTag, err error) {
	err = p.retry(ctx, func() error { tag, err = p.db.Exec(ctx, sql, args...); return err })
	return tag, err
}

// Query runs a query, waiting for the database if need be; a read cut off
// by a restart is asked again (it changed nothing).
func (p *Patient) Query(ctx context.Context, sql string, args ...any) (rows pgx.Rows, err error) {
	err = p.retryStatement(ctx, sql, func() error { rows, err = p.db.Query(ctx, sql, args...); return err })
	return rows, err
}

// QueryRow runs a one-row query; its error, and the waiting, come with
// Scan.
func (p *Patient) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return patientRow{p: p, ctx: ctx, sql: sql, args: args}
}

// retryStatement is retry for one statement: a read is also sent again
// after a break mid-way, a write only when it was never sent.
func (p *Patient) retryStatement(ctx context.Context, sql string, fn func() error) error {
	if readOnly(sql) {
		return p.retryWhile(ctx, Unavailable, fn)
	}
	return p.retry(ctx, fn)
}

// readOnly reports whether sql is a plain read: a SELECT (or WITH) that
// names no data-changing command, so that sending it twice is harmless.
func readOnly(sql string) bool {
	s := strings.ToUpper(strings.TrimSpace(sql))
	if !strings.HasPrefix(s, "SELECT") && !strings.HasPrefix(s, "WITH") {
		return false
	}
	for _, w := range []string{"INSERT", "UPDATE", "DELETE", "MERGE", "NEXTVAL", "SETVAL", "PG_NOTIFY", "FOR UPDATE", "FOR SHARE", "LOCK"} {
		if strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// CopyFrom copies rows, waiting for the database if need be (a COPY that
// could not be sent has read nothing of src).
func (p *Patient) CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (n int64, err error) {
	err = p.retry(ctx, func() error { n, err = p.db.CopyFrom(ctx, table, columns, src); return err })
	return n, err
}

type patientRow struct {
	p    *Patient
	ctx  context.Context
	sql  string
	args []any
}

func (r patientRow) Scan(dest ...any) error {
	return r.p.retryStatement(r.ctx, r.sql, func() error { return r.p.db.QueryRow(r.ctx, r.sql, r.args...).Scan(dest...) })
}
