package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/demo"
)

// loadDemoProjects stores the demo's pain-point projects (issue 17) unless
// projects are stored already.
func loadDemoProjects(ctx context.Context, pool *pgxpool.Pool, e *env) error {
	n, err := demo.LoadProjects(ctx, pool, time.Now())
	if err != nil {
		return err
	}
	if n > 0 {
		fmt.Fprintf(e.stdout, "demo projects: %d stored\n", n)
	}
	return nil
}
