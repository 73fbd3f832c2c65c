package pglocal

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
)

// StartStandby makes cfg.DataDir a streaming replica of primary
// (pg_basebackup with -R: a standby.signal and primary_conninfo written for
// us) and starts it, read-only, on its own port. The data dir must be empty
// or missing. The standby follows the primary across the primary's
// restarts: its WAL receiver reconnects by itself.
//
// The local clusters trust 127.0.0.1 for replication (initdb --auth=trust
// writes those pg_hba lines), so no password or slot is needed: a standby
// that falls too far behind would need a new base backup, which a test
// cluster never does.
func StartStandby(ctx context.Context, primary *Cluster, cfg Config) (*Cluster, error) {
	c, err := newCluster(cfg)
	if err != nil {
		return nil, err
	}
	if c.bin, err = findBinaries(cfg.BinDir); err != nil {
		return nil, err
	}
	c.runAs = primary.runAs
	if err := c.startStandby(ctx, primary); err != nil {
		c.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

func (c *Cluster) startStandby(ctx context.Context, primary *Cluster) error {
	fresh, err := c.prepareDataDir()
	if err != nil {
		return err
	}
	if !fresh {
		return fmt.Errorf("local postgres: standby data dir %s is not empty", c.cfg.DataDir)
	}
	c.created = true
	args := []string{"-D", c.cfg.DataDir, "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", localUser,
		"-X", "stream", "-R", "-c", "fast", "-w"}
	if c.cfg.Ephemeral {
		args = append(args, "--no-sync")
	}
	if _, err := c.run(ctx, filepath.Join(c.bin.dir, "pg_basebackup"), args...); err != nil {
		return fmt.Errorf("local postgres: base backup: %w", err)
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
	if err := c.writeOwner(); err != nil {
		return err
	}
	if c.cfg.Ephemeral {
		c.startWatchdog()
	}
	return nil
}

// Restart stops the server (fast: open connections are cut, transactions
// in flight roll back) and starts it again on the same port, as an
// operator's restart or a crash and recovery would look to clients.
func (c *Cluster) Restart(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped || c.attached {
		return fmt.Errorf("local postgres: restart: not running here")
	}
	if _, err := c.pgctl(ctx, "stop", "-D", c.cfg.DataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
		return fmt.Errorf("local postgres: restart: %w", err)
	}
	if _, err := c.pgctlStart(ctx); err != nil {
		return fmt.Errorf("local postgres: restart: %w", err)
	}
	return nil
}
