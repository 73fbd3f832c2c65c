package postgres_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// brokenCommit is a transaction whose connection breaks at COMMIT: after
// the server committed it (or, with abort, rolled it back).
type brokenCommit struct {
	pgx.Tx
	abort bool
}

func (b brokenCommit) Commit(ctx context.Context) error {
	if b.abort {
		b.Tx.Rollback(ctx)
	} else if err := b.Tx.Commit(ctx); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}

// TestSettledCommit: a COMMIT whose reply was lost is success when the
// server committed, and the break it was (a request may run again) when
// it did not; a read-only transaction has nothing to settle.
func TestSettledCommit(t *testing.T) {
	ctx := context.Background()
	pool := dbtest.Pool(t)
	patient := postgres.NewPatient(pool, 5*time.Second)
	for _, tt := range []struct {
		name    string
		abort   bool
		write   bool
		wantErr bool
	}{
		{name: "committed before the break", write: true},
		{name: "rolled back before the break", write: true, abort: true, wantErr: true},
		{name: "nothing written", wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tx, err := pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if tt.write {
				if _, err := tx.Exec(ctx, `CREATE TEMP TABLE settle_probe (n int) ON COMMIT DROP`); err != nil {
					t.Fatal(err)
				}
			}
			err = postgres.Settled(patient, brokenCommit{Tx: tx, abort: tt.abort}).Commit(ctx)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Commit = %v, want error %v", err, tt.wantErr)
			}
			if err != nil && !postgres.Unavailable(err) {
				t.Errorf("Commit = %v: want the break itself, which a request may run again after", err)
			}
		})
	}
}

// TestUnavailable tells a database that went away from one that refused.
func TestUnavailable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: "57P01"}, true},
		{&pgconn.PgError{Code: "57P03"}, true},
		{&pgconn.PgError{Code: "08006"}, true},
		{io.ErrUnexpectedEOF, true},
		{&pgconn.PgError{Code: "23505"}, false},
		{context.Canceled, false},
		{errors.New("something else"), false},
	} {
		if got := postgres.Unavailable(tt.err); got != tt.want {
			t.Errorf("Unavailable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
