package postgres

import (
	"context"
	"fmt"
	"strings"

	"citygrid/grid"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DBTX is what stores need from a connection: satisfied by *pgxpool.Pool and
// by pgx.Tx, so tests can run a store inside a transaction they roll back
// (pgx's Tx.Begin is a savepoint).
type DBTX interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	CopyFrom(ctx context.Context, table pgx.Identifier, columns []string, src pgx.CopyFromSource) (int64, error)
}

// Concurrent reports whether db serves several statements at once: a pool
// does, a transaction serves one at a time.
func Concurrent(db DBTX) bool {
	switch db := db.(type) {
	case *pgxpool.Pool:
		return true
	case *Patient:
		return Concurrent(db.db)
	case *ReplicaReads:
		return Concurrent(db.primary)
	}
	return false
}

// Open connects to url, checks that the server answers, and applies any
// pending migrations.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// JIT compilation costs more (10–20 ms) than the short queries of an
	// API ever run.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	// pgx's default, four connections on this machine, is too few for a
	// server: two follow notifications for good, and a request may hold
	// one while it authenticates on another. pool_max_conns in the URL
	// still wins.
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	if _, err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	if err := CheckCellRes(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// defaultMaxConns is the pool size of a process unless its URL says
// otherwise (pool_max_conns): with PostgreSQL's default of 100
// connections, four processes fit beside the tools.
const defaultMaxConns = 20

const findStoredCellResSQL = `SELECT res FROM stored_cell_resolution`

// CheckCellRes refuses a database whose cases were stored at another H3
// resolution than grid.CellRes: their hotspot counts, map clusters and h3=
// area queries would disagree.
func CheckCellRes(ctx context.Context, db DBTX) error {
	var res int
	if err := db.QueryRow(ctx, findStoredCellResSQL).Scan(&res); err != nil {
		return fmt.Errorf("read the stored cell resolution: %w", err)
	}
	if res != grid.CellRes {
		return fmt.Errorf("the database stores case cells at H3 resolution %d, this citygrid at %d: "+
			"use a database written by this version, or re-import the cases into a new one", res, grid.CellRes)
	}
	return nil
}
