package pglocal

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// createDatabase creates database citygrid and the postgis extension in it
// when missing.
func (c *Cluster) createDatabase(ctx context.Context) error {
	base := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", localUser, c.port)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("local postgres: connect: %w", err)
	}
	var exists bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, localDatabase).Scan(&exists)
	if err == nil && !exists {
		_, err = conn.Exec(ctx, `CREATE DATABASE `+localDatabase)
	}
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("local postgres: create database %s: %w", localDatabase, err)
	}
	conn, err = pgx.Connect(ctx, c.URL())
	if err != nil {
		return fmt.Errorf("local postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		return fmt.Errorf("local postgres: create extension postgis: %w", err)
	}
	return nil
}
