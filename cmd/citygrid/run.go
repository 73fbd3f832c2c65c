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
  keys create -role R -name N [-scope CODE,...] [-unit U] [-source S] [-expires 90d]
                      make an API key: prints the token (shown once) and its id
  keys list           list the API keys (never their tokens)
  keys revoke ID      revoke an API key
  users create -name N -role R [-scope CODE,...] [-unit U] [-display TEXT] [-password-stdin]
                      make a user who signs in; prints a made password once
  users list          list the users (never their passwords)
  users disable NAME  disable a user: its sessions end within 1 s
  data-dir            print the directory of the private PostgreSQL cluster

Every command but serve uses the private cluster a running serve runs from
-data-dir, and starts it only when none runs.
`

// action is one action of a command with actions (keys create, users
// disable, …): what it runs and the flags of its own.
type action struct {
	run   func(context.Context, *Config, []string, *env) error
	flags func(*flag.FlagSet)
}

// subcommands are the commands made of actions, each with its usage.
var subcommands = map[string]struct {
	usage   string
	actions func() map[string]action // fresh for each run: an action's flags fill its command
}{
	"keys": {keysUsage, func() map[string]action {
		k := &keysCommand{}
		return map[string]action{"create": {k.create, k.createFlags}, "list": {k.list, k.usage}, "revoke": {k.revoke, k.usage}}
	}},
	"users": {usersUsage, func() map[string]action {
		u := &usersCommand{}
		return map[string]action{"create": {u.create, u.createFlags}, "list": {u.list, u.usage}, "disable": {u.disable, u.usage}}
	}},
}

// Run executes one command and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	name, rest := args[0], args[1:]
	var cmd func(context.Context, *Config, []string, *env) error
	var flags func(*flag.FlagSet) // the command's own flags, if any
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
	case "keys", "users":
		group := subcommands[name]
		if len(rest) == 0 {
			fmt.Fprint(stderr, group.usage)
			return 2
		}
		a, ok := group.actions()[rest[0]]
		switch {
		case rest[0] == "help" || rest[0] == "-h" || rest[0] == "-help" || rest[0] == "--help":
			fmt.Fprint(stdout, group.usage)
			return 0
		case !ok:
			fmt.Fprintf(stderr, "citygrid %s: unknown action %q\n\n%s", name, rest[0], group.usage)
			return 2
		}
		cmd, flags = a.run, a.flags
		name, rest = name+" "+rest[0], rest[1:]
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "citygrid: unknown command %q\n\n%s", name, usage)
		return 2
	}
	cfg, rest, err := parseConfig(name, rest, os.Getenv, stderr, flags)
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

// openDatabase connects to cfg.DatabaseURL, or with none to the private
// cluster in cfg.DataDir: the one a running citygrid process (serve) runs
// from there, so that a command works on the same database while serve
// runs, else one it starts. It applies migrations. closeFn stops what it
// started.
func openDatabase(ctx context.Context, cfg *Config, e *env) (pool *pgxpool.Pool, closeFn func(), err error) {
	return connect(ctx, cfg, e, true)
}

// openServeDatabase is openDatabase for serve, which never attaches: it
// owns the private cluster it uses (a second serve on the same data dir is
// refused), so that its database never stops under it.
func openServeDatabase(ctx context.Context, cfg *Config, args []string, e *env) (*pgxpool.Pool, func(), error) {
	if len(args) > 0 {
		return nil, nil, fmt.Errorf("unexpected arguments %q", args)
	}
	return connect(ctx, cfg, e, false)
}

func connect(ctx context.Context, cfg *Config, e *env, attach bool) (pool *pgxpool.Pool, closeFn func(), err error) {
	url := cfg.DatabaseURL
	var local *pglocal.Cluster
	if url == "" {
		if local, err = privateCluster(ctx, cfg, e, attach); err != nil {
			return nil, nil, err
		}
		url = local.URL()
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

// privateCluster attaches to the private cluster a live process runs from
// cfg.DataDir (when attach is set), or starts it. Should another process
// start it between the two, it attaches after all.
func privateCluster(ctx context.Context, cfg *Config, e *env, attach bool) (*pglocal.Cluster, error) {
	pcfg := pglocal.Config{DataDir: cfg.DataDir, Logger: e.logger}
	attachTo := func() (*pglocal.Cluster, error) {
		local, err := pglocal.Attach(ctx, pcfg)
		if err == nil {
			// Say where the data is, whatever the log level: it differs for root.
			fmt.Fprintf(e.stdout, "citygrid: private PostgreSQL cluster in %s (run by process %d)\n", local.DataDir(), local.Owner())
		}
		return local, err
	}
	if attach {
		local, err := attachTo()
		if !errors.Is(err, pglocal.ErrNotRunning) {
			return local, err
		}
		e.logger.Debug("no running private cluster to attach to", "reason", err)
	}
	e.logger.Info("starting private PostgreSQL cluster", "data_dir", cfg.DataDir)
	local, err := pglocal.Start(ctx, pcfg)
	if attach && errors.Is(err, pglocal.ErrInUse) {
		return attachTo() // started meanwhile
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(e.stdout, "citygrid: private PostgreSQL cluster in %s\n", local.DataDir())
	return local, nil
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
