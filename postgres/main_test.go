package postgres_test

import (
	"context"
	"testing"

	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

func TestMain(m *testing.M) {
	dbtest.MainMigrated(m)
}

func TestMigrateIsIdempotent(t *testing.T) {
	pool := dbtest.Pool(t)
	applied, err := postgres.Migrate(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(applied) != 0 {
		t.Errorf("second Migrate applied %v, want nothing", applied)
	}
	all, err := postgres.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(all) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(all))
	}
}
