package pglocal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Config says where and how to run a private cluster.
type Config struct {
	// DataDir is the cluster directory. It is created (initdb) when it is
	// missing or empty and reused when it already holds a cluster.
	DataDir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one at every start.
	Port int
	// Ephemeral marks a throwaway (test) cluster: durability is switched off
	// (fsync, synchronous_commit, full_page_writes), Stop removes DataDir,
	// and a watchdog stops the server and removes DataDir should this
	// process die without calling Stop.
	Ephemeral bool
	// BinDir holds initdb, pg_ctl and postgres. Empty means: pg_config
	// --bindir, else the newest /usr/lib/postgresql/*/bin, else PATH.
	BinDir string
	// Logger gets the commands run, at debug level. May be nil.
	Logger *slog.Logger
}

// Cluster is a running private cluster.
type Cluster struct {
	cfg       Config // DataDir absolute
	bin       pgBinaries
	runAs     *runUser // nil: run as the current user
	log       *slog.Logger
	port      int
	socketDir string
	watchdog  *exec.Cmd
	created   bool // initdb ran in this Start
	attached  bool // another process's server (Attach): Stop leaves it alone
	owner     int  // attached: the PID of the process that runs it

	mu      sync.Mutex
	stopped bool
	stopErr error
}

const (
	localUser     = "citygrid"
	localDatabase = "citygrid"
)

// newCluster is a cluster of cfg with its data dir made absolute; Start
// and Attach take it from there.
func newCluster(cfg Config) (*Cluster, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("local postgres: no data dir")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local postgres: %w", err)
	}
	cfg.DataDir = dir
	c := &Cluster{cfg: cfg, log: cfg.Logger}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Start initialises (if needed) and starts a cluster, creates database
// "citygrid" and the postgis extension in it, and returns once it accepts
// connections.
//
// PostgreSQL refuses to run as root: when this process is root the server
// runs as the "postgres" system user, which then owns DataDir. Every
// directory above DataDir must be searchable by that user; directories that
// Start creates are, and a root-only directory under the system temp
// dir (such as the parent of a t.TempDir) gets o+x; any other one is an
// error that names it.
//
// If a server is still running from DataDir: when the process that started
// it is alive, the data dir is in use and Start fails (Attach uses that
// server instead); when that
// process died without Stop (or the server was started by hand), the
// server is stopped and started again with this configuration. A stale
// postmaster.pid whose process is gone is removed.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c, err := newCluster(cfg)
	if err != nil {
		return nil, err
	}
	cfg = c.cfg
	if c.bin, err = findBinaries(cfg.BinDir); err != nil {
		return nil, err
	}
	if err := c.bin.checkPostGIS(); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if c.runAs, err = lookupRunUser("postgres"); err != nil {
			return nil, err
		}
	}
	if err := c.start(ctx); err != nil {
		if c.socketDir != "" {
			os.RemoveAll(c.socketDir)
		}
		if c.cfg.Ephemeral && c.created && !c.stopped {
			os.RemoveAll(c.cfg.DataDir) // the server never ran
		}
		return nil, err
	}
	return c, nil
}

// URL is the connection URL of database citygrid, over TCP on 127.0.0.1.
func (c *Cluster) URL() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", localUser, c.port, localDatabase)
}

// Port is the TCP port the server listens on.
func (c *Cluster) Port() int { return c.port }

// DataDir is the absolute cluster directory.
func (c *Cluster) DataDir() string { return c.cfg.DataDir }

// Stop stops the server (pg_ctl stop -m fast) and removes its socket dir;
// for an ephemeral cluster it also removes the data dir. Calling it again
// returns the first call's result. An attached cluster (Attach) is not
// ours to stop: Stop does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || c.attached {
		return c.stopErr
	}
	c.stopped = true
	// Last: should we die while stopping, the watchdog still cleans up.
	defer c.stopWatchdog()
	var errs []error
	if _, err := c.pgctl(ctx, "stop", "-D", c.cfg.DataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
		errs = append(errs, err)
		if c.cfg.Ephemeral {
			// Don't leave a server running on a deleted directory.
			_, err := c.pgctl(context.WithoutCancel(ctx), "stop", "-D", c.cfg.DataDir, "-m", "immediate", "-w", "-t", "30")
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(c.socketDir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		os.Remove(filepath.Join(c.cfg.DataDir, ownerFile))
	}
	if c.cfg.Ephemeral {
		if err := os.RemoveAll(c.cfg.DataDir); err != nil {
			errs = append(errs, err)
		}
	}
	c.stopErr = errors.Join(errs...)
	return c.stopErr
}

func (c *Cluster) start(ctx context.Context) error {
	fresh, err := c.prepareDataDir()
	if err != nil {
		return err
	}
	if fresh {
		c.created = true
		if err := c.initdb(ctx); err != nil {
			return err
		}
	} else if err := c.handleRunningServer(ctx); err != nil {
		return err
	}
	if err := c.ensureInclude(); err != nil {
		return err
	}
	if c.socketDir, err = c.makeSocketDir(); err != nil {
		return err
	}
	if err := c.startServer(ctx); err != nil {
		return err
	}
	if err := c.createDatabase(ctx); err != nil {
		c.Stop(context.WithoutCancel(ctx))
		return err
	}
	if err := c.writeOwner(); err != nil {
		c.Stop(context.WithoutCancel(ctx))
		return err
	}
	if c.cfg.Ephemeral {
		c.startWatchdog()
	}
	return nil
}
