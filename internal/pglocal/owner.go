package pglocal

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The owner file names the process that started the running server: PID
// and start time (so that a recycled PID is not taken for it).
const ownerFile = "citygrid.owner"

// writeOwner records this process as the owner of the server it started,
// so that a later Start can tell a data dir in use from one left behind.
func (c *Cluster) writeOwner() error {
	path := filepath.Join(c.cfg.DataDir, ownerFile)
	st := processStart(os.Getpid())
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d %s\n", os.Getpid(), st)), 0o644); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return c.chown(path)
}

// liveOwner returns the PID of the process that started the running server
// if that process is still alive.
func (c *Cluster) liveOwner() (int, bool) {
	data, err := os.ReadFile(filepath.Join(c.cfg.DataDir, ownerFile))
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(data))
	if len(f) != 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil || pid <= 0 {
		return 0, false
	}
	st := processStart(pid)
	return pid, st != "" && st == f[1]
}
