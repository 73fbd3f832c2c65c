package pglocal

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	serverLogFile   = "server.log" // in the data dir; pg_ctl -l appends to it
	socketDirPrefix = "cgpg-"      // /tmp/cgpg-NNN: short, for the Unix socket
)

// startServer writes the settings and starts the server on the configured
// port, or on a free one; a free port is tried twice because another
// process may bind it between our pick and the server's.
func (c *Cluster) startServer(ctx context.Context) error {
	attempts := 1
	if c.cfg.Port == 0 {
		attempts = 2 // a picked port may be taken before the server binds it
	}
	var err error
	for i := 0; i < attempts; i++ {
		c.port = c.cfg.Port
		if c.port == 0 {
			if c.port, err = freePort(); err != nil {
				return fmt.Errorf("local postgres: pick a port: %w", err)
			}
		}
		if err = c.writeConf(); err != nil {
			return err
		}
		var inUse bool
		if inUse, err = c.pgctlStart(ctx); err == nil || !inUse {
			break
		}
		c.log.Debug("local postgres: port taken, retrying with another", "port", c.port)
	}
	return err
}

// pgctlStart runs pg_ctl start and waits until the server accepts
// connections. On failure the error carries the end of the server log.
func (c *Cluster) pgctlStart(ctx context.Context) (portInUse bool, err error) {
	logPath := filepath.Join(c.cfg.DataDir, serverLogFile)
	var offset int64
	if fi, err := os.Stat(logPath); err == nil {
		offset = fi.Size()
	}
	t0 := time.Now()
	_, err = c.pgctl(ctx, "start", "-D", c.cfg.DataDir, "-l", logPath, "-w", "-t", "60")
	if err == nil {
		c.log.Debug("local postgres: server started", "port", c.port, "took", time.Since(t0).Round(time.Millisecond))
		return false, nil
	}
	tail := logTail(logPath, offset, 20)
	portInUse = strings.Contains(tail, "Address already in use")
	return portInUse, fmt.Errorf("local postgres: start server on port %d: %w\nlast lines of %s:\n%s", c.port, err, logPath, tail)
}

func logTail(path string, offset int64, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if offset <= int64(len(data)) {
		data = data[offset:]
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// makeSocketDir creates a short directory for the Unix socket (socket paths
// are limited to about 100 bytes), owned by the server's user.
func (c *Cluster) makeSocketDir() (string, error) {
	base := "/tmp"
	if fi, err := os.Stat(base); err != nil || !fi.IsDir() {
		base = os.TempDir()
	}
	d, err := os.MkdirTemp(base, socketDirPrefix)
	if err != nil {
		return "", fmt.Errorf("local postgres: socket dir: %w", err)
	}
	if len(d)+len("/.s.PGSQL.65535.lock") > 100 {
		os.Remove(d)
		return "", fmt.Errorf("local postgres: socket dir %s is too long for a Unix socket path", d)
	}
	if err := os.Chmod(d, 0o755); err != nil {
		return "", fmt.Errorf("local postgres: socket dir: %w", err)
	}
	if err := c.chown(d); err != nil {
		os.Remove(d)
		return "", fmt.Errorf("local postgres: socket dir: %w", err)
	}
	return d, nil
}
