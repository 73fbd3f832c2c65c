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

	"github.com/jackc/pgx/v5"
)

// ErrNotRunning is Attach's answer when no live process runs a server from
// the data dir: Start one instead.
var ErrNotRunning = errors.New("local postgres: no running server to attach to")

// Attach connects to the server another live process (a citygrid serve)
// runs from cfg.DataDir, so that a second process (a CLI command) uses the
// same database while the first one runs. The returned Cluster does not own
// the server: its Stop leaves it running and touches nothing in the data
// dir; Owner says which process does.
//
// It reads the port and socket dir from the server's postmaster.pid and
// attaches only when the process named in citygrid.owner is alive (a
// server left behind by a dead process is Start's to restart) and the
// server accepts connections. Otherwise the error is, or wraps,
// ErrNotRunning. A server that is starting or stopping is waited for, up
// to a few seconds, not attached to half-way.
func Attach(ctx context.Context, cfg Config) (*Cluster, error) {
	c, err := newCluster(cfg)
	if err != nil {
		return nil, err
	}
	c.attached = true
	dir := c.cfg.DataDir
	deadline := time.Now().Add(10 * time.Second)
	for {
		pm, err := readPostmaster(dir)
		if err != nil {
			return nil, err
		}
		owner, ok := c.liveOwner()
		if !ok {
			return nil, fmt.Errorf("%w: no live process owns the server in %s", ErrNotRunning, dir)
		}
		if !pm.alive(dir) {
			return nil, fmt.Errorf("%w: the server in %s (pid %d) is gone", ErrNotRunning, dir, pm.pid)
		}
		if pm.status == "ready" && pm.port > 0 {
			c.port, c.socketDir, c.owner = pm.port, pm.socketDir, owner
			err = c.ping(ctx)
			if err == nil {
				c.log.Debug("local postgres: attached to the server of a running process", "data_dir", dir, "port", c.port, "owner", owner)
				return c, nil
			}
		} else {
			err = fmt.Errorf("server status %q", pm.status)
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("local postgres: the server in %s (pid %d, owned by process %d) does not accept connections: %w", dir, pm.pid, owner, err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Attached reports whether c is another process's server (Attach), which
// Stop leaves running.
func (c *Cluster) Attached() bool { return c.attached }

// Owner is the PID of the process that runs an attached cluster's server
// (0 for a cluster this process started).
func (c *Cluster) Owner() int { return c.owner }

// ping opens and closes one connection to database citygrid.
func (c *Cluster) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// postmaster is what a server's postmaster.pid says of it. Its lines: PID,
// data dir, start time, port, socket dir, listen address, shared memory
// key, status ("starting", "ready", "stopping", "standby").
type postmaster struct {
	pid       int
	port      int
	socketDir string
	status    string
}

// readPostmaster reads dir/postmaster.pid; a missing file is ErrNotRunning.
func readPostmaster(dir string) (postmaster, error) {
	data, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if errors.Is(err, fs.ErrNotExist) {
		return postmaster{}, fmt.Errorf("%w: no server runs from %s", ErrNotRunning, dir)
	} else if err != nil {
		return postmaster{}, fmt.Errorf("local postgres: %w", err)
	}
	lines := strings.Split(string(data), "\n")
	line := func(i int) string {
		if i < len(lines) {
			return strings.TrimSpace(lines[i])
		}
		return ""
	}
	var pm postmaster
	pm.pid, _ = strconv.Atoi(line(0))
	pm.port, _ = strconv.Atoi(line(3))
	pm.socketDir = line(4)
	pm.status = line(7)
	if pm.pid <= 0 {
		return postmaster{}, fmt.Errorf("%w: %s/postmaster.pid names no process", ErrNotRunning, dir)
	}
	return pm, nil
}

// alive reports whether the postmaster still runs from dir (its working
// directory; a recycled PID runs elsewhere). Without /proc it is trusted.
func (pm postmaster) alive(dir string) bool {
	if _, err := os.Stat("/proc/self/cwd"); err != nil {
		return true
	}
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return false
	}
	return processCwd(pm.pid) == real
}
