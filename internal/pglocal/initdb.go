package pglocal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func (c *Cluster) initdb(ctx context.Context) error {
	args := []string{"-D", c.cfg.DataDir, "-U", localUser, "--auth=trust", "-E", "UTF8", "--no-instructions"}
	if c.cfg.Ephemeral {
		args = append(args, "--no-sync")
	}
	t0 := time.Now()
	out, err := c.run(ctx, c.bin.initdb, append(args, "--locale=C.UTF-8")...)
	if err != nil && strings.Contains(strings.ToLower(out), "locale") && ctx.Err() == nil {
		c.log.Debug("local postgres: locale C.UTF-8 unavailable, retrying initdb with --no-locale")
		if err := c.emptyDataDir(); err != nil {
			return err
		}
		_, err = c.run(ctx, c.bin.initdb, append(args, "--no-locale")...)
	}
	if err != nil {
		return fmt.Errorf("local postgres: initdb: %w", err)
	}
	c.log.Debug("local postgres: initialised cluster", "data_dir", c.cfg.DataDir, "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// emptyDataDir removes what a failed initdb left in the data dir.
func (c *Cluster) emptyDataDir() error {
	entries, err := os.ReadDir(c.cfg.DataDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(c.cfg.DataDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
