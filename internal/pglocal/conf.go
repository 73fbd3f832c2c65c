package pglocal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

const (
	confFile    = "citygrid.conf" // rewritten at every start, included by postgresql.conf
	includeLine = "include_if_exists = '" + confFile + "'"
)

// ensureInclude makes postgresql.conf include citygrid.conf (last, so our
// settings win over postgresql.conf; ALTER SYSTEM still wins over both).
func (c *Cluster) ensureInclude() error {
	path := filepath.Join(c.cfg.DataDir, "postgresql.conf")
	conf, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if bytes.Contains(conf, []byte(includeLine)) {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# citygrid: settings rewritten at every start\n%s\n", includeLine)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return nil
}

func (c *Cluster) writeConf() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by citygrid at every start of this cluster: edits are lost.\n")
	fmt.Fprintf(&b, "# Use ALTER SYSTEM (postgresql.auto.conf) for your own settings.\n")
	fmt.Fprintf(&b, "listen_addresses = '127.0.0.1'\n")
	fmt.Fprintf(&b, "port = %d\n", c.port)
	fmt.Fprintf(&b, "unix_socket_directories = '%s'\n", c.socketDir)
	fmt.Fprintf(&b, "max_connections = 100\n")
	fmt.Fprintf(&b, "shared_buffers = 256MB\n")
	fmt.Fprintf(&b, "work_mem = 16MB\n")
	fmt.Fprintf(&b, "maintenance_work_mem = 256MB\n")
	fmt.Fprintf(&b, "effective_cache_size = 1GB\n")
	fmt.Fprintf(&b, "random_page_cost = 1.1\n")
	fmt.Fprintf(&b, "max_wal_size = 1GB\n")
	// A standby keeps the primary from vacuuming rows its queries still
	// read, rather than cancelling them (ignored by a primary).
	fmt.Fprintf(&b, "hot_standby_feedback = on\n")
	fmt.Fprintf(&b, "log_min_duration_statement = -1\n")
	if c.cfg.Ephemeral {
		fmt.Fprintf(&b, "# ephemeral (test) cluster: no durability\n")
		fmt.Fprintf(&b, "fsync = off\n")
		fmt.Fprintf(&b, "synchronous_commit = off\n")
		fmt.Fprintf(&b, "full_page_writes = off\n")
	}
	path := filepath.Join(c.cfg.DataDir, confFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if err := c.chown(path); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return nil
}
