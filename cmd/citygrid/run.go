package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/jackc/pgx/v5/pgxpool"

	"citygrid/internal/pglocal"
	"citygrid/postgres"
)

const usage = `usage: citygrid <command> [flags]

commands:
  serve               run the HTTP service (flags: citygrid serve -help)
  migrate             apply database migrations
  import grids FILE   import a GeoJSON FeatureCollection of grids ("-" reads stdin)
  import cases FILE   import cases from NDJSON or CSV (.csv) ("-" reads NDJSON from stdin)
  demo                load the Shibei demo district (grids and units; -demo-cases N adds cases)
  data-dir            print the directory of the private PostgreSQL cluster
`

// Run executes one command and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	name, rest := args[0], args[1:]
	var cmd func(context.Context, *Config, []string, *env) error
	switch name {
	case "serve":
		cmd = runServe
	case "migrate":
		cmd = runMigrate
	case "import":
		cmd = runImport
	case "demo":
		cmd = runDemo
	case "data-dir":
		cmd = runDataDir
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "citygrid: unknown command %q\n\n%s", name, usage)
		return 2
	}
	cfg, rest, err := parseConfig(name, rest, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "citygrid %s: %v\n", name, err)
		return 2
	}
	e := &env{stdout: stdout, stderr: stderr, logger: cfg.newLogger(stderr)}
	if err := cmd(ctx, cfg, rest, e); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "citygrid %s: %v\n", name, err)
		return 1
	}
	return 0
}

// env is what commands write to.
type env struct {
	stdout, stderr io.Writer
	logger         *slog.Logger
}

// openDatabase connects to cfg.DatabaseURL, or starts the private local
// cluster when it is empty, and applies migrations. close stops what it
// started.
func openDatabase(ctx context.Context, cfg *Config, e *env) (pool *pgxpool.Pool, closeFn func(), err error) {
	url := cfg.DatabaseURL
	var local *pglocal.Cluster
	if url == "" {
		e.logger.Info("starting private PostgreSQL cluster", "data_dir", cfg.DataDir)
		local, err = pglocal.Start(ctx, pglocal.Config{DataDir: cfg.DataDir, Logger: e.logger})
		if err != nil {
			return nil, nil, err
		}
		url = local.URL()
		// Say where the data is, whatever the log level: it differs for root.
		fmt.Fprintf(e.stdout, "citygrid: private PostgreSQL cluster in %s\n", local.DataDir())
	}
	stopLocal := func() {
		if local != nil {
			if err := local.Stop(context.WithoutCancel(ctx)); err != nil {
				e.logger.Error("stopping private PostgreSQL cluster", "err", err)
			}
		}
	}
	pool, err = postgres.Open(ctx, url)
	if err != nil {
		stopLocal()
		return nil, nil, err
	}
	return pool, func() { pool.Close(); stopLocal() }, nil
}

// openDatabaseNoArgs is openDatabase for a subcommand that takes no
// arguments.
func openDatabaseNoArgs(ctx context.Context, cfg *Config, args []string, e *env) (*pgxpool.Pool, func(), error) {
	if len(args) > 0 {
		return nil, nil, fmt.Errorf("unexpected arguments %q", args)
	}
	return openDatabase(ctx, cfg, e)
}

func runMigrate(ctx context.Context, cfg *Config, args []string, e *env) error {
	// Open applies pending migrations; a second Migrate reports none left.
	pool, closeDB, err := openDatabaseNoArgs(ctx, cfg, args, e)
	if err != nil {
		return err
	}
	defer closeDB()
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	all, _ := postgres.Migrations()
	fmt.Fprintf(e.stdout, "schema up to date: %d migrations (%d applied now)\n", len(all), len(applied))
	return nil
}
