package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"citygrid"
	"citygrid/cases"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestTranslateWriteError provokes each kind of violation on the real
// server, in a transaction rolled back afterwards, and checks what the
// translation makes of it.
func TestTranslateWriteError(t *testing.T) {
	tx := dbtest.Tx(t)
	ctx := context.Background()
	setup := `
CREATE TEMP TABLE tw_exclusive (during int4range, EXCLUDE USING gist (during WITH &&));
CREATE TEMP TABLE tw_unique (k int CONSTRAINT tw_unique_k_key UNIQUE);
INSERT INTO tw_exclusive VALUES ('[1,10)');
INSERT INTO tw_unique VALUES (1);
INSERT INTO categories (code, name_zh, name_en, limit_value, limit_unit) VALUES ('TW1', '测', 'test', 1, 'working_days')`
	if _, err := tx.Exec(ctx, setup); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		sql      string
		wantCode citygrid.Code // CodeInternal: not translated
		wantMsg  string
	}{
		{"unique violation of a known constraint",
			`INSERT INTO categories (code, name_zh, name_en, limit_value, limit_unit) VALUES ('TW1', '测', 'test', 1, 'working_days')`,
			citygrid.CodeConflict, "category table was changed by another writer"},
		{"unique violation of another constraint", `INSERT INTO tw_unique VALUES (1)`,
			citygrid.CodeConflict, "conflicts with data stored at the same time"},
		{"exclusion violation", `INSERT INTO tw_exclusive VALUES ('[5,15)')`,
			citygrid.CodeConflict, "conflicts with data stored at the same time"},
		{"foreign key violation", `INSERT INTO case_events (case_id, at, kind) VALUES (-1, now(), 'x')`,
			citygrid.CodeInternal, ""},
		{"check violation", `INSERT INTO categories (code, name_zh, name_en, limit_value, limit_unit) VALUES ('TW2', '测', 'test', 0, 'working_days')`,
			citygrid.CodeInternal, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := tx.Begin(ctx) // a savepoint: the failure aborts only it
			if err != nil {
				t.Fatal(err)
			}
			defer sp.Rollback(ctx) //nolint:errcheck
			_, dbErr := sp.Exec(ctx, tt.sql)
			var pe *pgconn.PgError
			if !errors.As(dbErr, &pe) {
				t.Fatalf("%s: error %v, want a server error", tt.sql, dbErr)
			}
			err = postgres.TranslateWriteError("test write", dbErr)
			if got := citygrid.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("TranslateWriteError(%s %s) code = %s, want %s (%v)", pe.Code, pe.ConstraintName, got, tt.wantCode, err)
			}
			if !strings.HasPrefix(err.Error(), "test write: ") {
				t.Errorf("error %q lost its context", err)
			}
			var ce *citygrid.Error
			if !errors.As(err, &ce) {
				if !errors.Is(err, dbErr) {
					t.Errorf("untranslated error %v does not wrap the server's", err)
				}
				return
			}
			if !strings.Contains(ce.Message, tt.wantMsg) {
				t.Errorf("message %q, want it to contain %q", ce.Message, tt.wantMsg)
			}
			// The client sees Message: nothing of the server's text.
			for _, leak := range []string{pe.Message, pe.Detail, pe.ConstraintName, pe.TableName, pe.Code, "duplicate key"} {
				if leak != "" && strings.Contains(ce.Message, leak) {
					t.Errorf("message %q shows the server's %q", ce.Message, leak)
				}
			}
		})
	}
}

// TestReplaceCategoriesTakeTurns races a replacement of the category
// table with another one in flight (on committed data, in a schema of its
// own) that shares no code with it: the later one waits, then replaces the
// earlier wholly. They used to both succeed and leave the union of the two
// tables.
func TestReplaceCategoriesTakeTurns(t *testing.T) {
	pool := dbtest.Isolated(t, "categories")
	ctx := context.Background()
	store := postgres.NewCaseStore(pool)

	// The first replacement, by hand so that the test decides when it
	// commits, with a code the second does not have.
	first, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx) //nolint:errcheck
	if _, err := first.Exec(ctx, `DELETE FROM categories`); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Exec(ctx, `INSERT INTO categories (code, name_zh, name_en, limit_value, limit_unit) VALUES ('Z0101', '测', 'only in the first', 4, 'working_hours')`); err != nil {
		t.Fatal(err)
	}
	pid := dbtest.BackendPID(t, first)

	cats, err := cases.NewCategories(cases.DefaultCategories())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- store.ReplaceCategories(ctx, cats) }()
	dbtest.WaitBlocked(t, pid) // the second waits for the first
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the later replacement: %v", err)
	}
	var n, first1 int
	if err := pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE code = 'Z0101') FROM categories`).Scan(&n, &first1); err != nil {
		t.Fatal(err)
	}
	if n != len(cats.List()) || first1 != 0 {
		t.Errorf("the table holds %d rows (%d of the first replacement), want the later one's %d alone", n, first1, len(cats.List()))
	}
}
