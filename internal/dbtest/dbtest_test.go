package dbtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) {
	Main(m, nil)
}

func TestPostGIS(t *testing.T) {
	pool := Pool(t)
	t.Logf("database ready in %v", startup.Round(time.Millisecond))
	ctx := context.Background()
	var version string
	if err := pool.QueryRow(ctx, `SELECT postgis_full_version()`).Scan(&version); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(version, "POSTGIS=") {
		t.Errorf("postgis_full_version() = %q", version)
	}
	var covers bool
	err := pool.QueryRow(ctx, `SELECT ST_Covers(ST_GeomFromText('POLYGON((0 0,1 0,1 1,0 1,0 0))',4326), ST_Point(0.5,0.5,4326))`).Scan(&covers)
	if err != nil {
		t.Fatal(err)
	}
	if !covers {
		t.Error("ST_Covers(unit square, (0.5 0.5)) = false")
	}
}

func TestDBURL(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var db string
	if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		t.Fatal(err)
	}
	if db == "" {
		t.Error("no current database")
	}
}

func TestTxRolledBack(t *testing.T) {
	ctx := context.Background()
	table := fmt.Sprintf("dbtest_tx_%d", time.Now().UnixNano())
	exists := func(t *testing.T) bool {
		t.Helper()
		conn, err := pgx.Connect(ctx, URL(t)) // a fresh connection, outside the pool
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, table).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	t.Run("inside", func(t *testing.T) {
		tx := Tx(t)
		if _, err := tx.Exec(ctx, `CREATE TABLE `+table+` (id int); INSERT INTO `+table+` VALUES (1)`); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil || n != 1 {
			t.Fatalf("count in tx = %d, %v", n, err)
		}
		if exists(t) {
			t.Error("uncommitted table visible from another connection")
		}
	})
	if exists(t) {
		t.Errorf("table %s still exists after the test's cleanup: Tx was not rolled back", table)
	}
}
