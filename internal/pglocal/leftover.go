package pglocal

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrInUse is Start's error when a live process runs the data dir's server
// (Attach uses it instead).
var ErrInUse = errors.New("local postgres: data dir in use")

type inUseError struct{ msg string }

func (e *inUseError) Error() string        { return e.msg }
func (e *inUseError) Is(target error) bool { return target == ErrInUse }

// handleRunningServer deals with a postmaster.pid left in the data dir. If
// its postmaster is alive and the process that started it (citygrid.owner)
// still runs, the data dir is in use: error. If that process died without
// stopping it (or it was started by hand), it is stopped: we restart it
// with our settings. If no
// process runs in the data dir any more, the stale pid file is removed (a
// recycled PID would otherwise make PostgreSQL refuse to start).
func (c *Cluster) handleRunningServer(ctx context.Context) error {
	pidFile := filepath.Join(c.cfg.DataDir, "postmaster.pid")
	data, err := os.ReadFile(pidFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if _, err := os.Stat("/proc/self/cwd"); err != nil {
		return nil // no /proc: leave it to pg_ctl
	}
	lines := strings.Split(string(data), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(lines[0]))
	// Our socket dir of that run goes too, once its server is down.
	if len(lines) > 4 {
		if d := strings.TrimSpace(lines[4]); strings.HasPrefix(filepath.Base(d), socketDirPrefix) {
			defer func() {
				if _, err := os.Stat(pidFile); errors.Is(err, fs.ErrNotExist) {
					os.RemoveAll(d)
				}
			}()
		}
	}
	realDir, err := filepath.EvalSymlinks(c.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if pid > 0 && processCwd(pid) == realDir {
		if owner, ok := c.liveOwner(); ok {
			port := "?"
			if len(lines) > 3 {
				port = strings.TrimSpace(lines[3])
			}
			return &inUseError{fmt.Sprintf("local postgres: data dir %s is in use: its server (pid %d, port %s) belongs to running process %d; stop that process or use another data dir", c.cfg.DataDir, pid, port, owner)}
		}
		c.log.Info("local postgres: a server from an earlier run is still running from the data dir; stopping it to restart it", "data_dir", c.cfg.DataDir, "pid", pid)
		if _, err := c.pgctl(ctx, "stop", "-D", c.cfg.DataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
			return fmt.Errorf("local postgres: stop the server left running from %s (pid %d): %w", c.cfg.DataDir, pid, err)
		}
		return nil
	}
	// The postmaster is gone; wait for any orphaned backend to exit before
	// removing the lock (it also guards the shared memory they use).
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := processesIn(realDir)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("local postgres: processes %v still run in data dir %s though its postmaster (pid %d) is gone; stop them first", left, c.cfg.DataDir, pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	c.log.Debug("local postgres: removing stale postmaster.pid", "pid", pid)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local postgres: %w", err)
	}
	return nil
}
