package pglocal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// prepareDataDir makes the data dir usable by the server's user and reports
// whether it needs initdb.
func (c *Cluster) prepareDataDir() (fresh bool, err error) {
	dir := c.cfg.DataDir
	if err := c.checkReachable(dir); err != nil {
		return false, err
	}
	// Create missing directories one by one so we know which ones are ours.
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(d); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("local postgres: data dir: %w", err)
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d, perm := missing[i], os.FileMode(0o755)
		if d == dir {
			perm = 0o700
		}
		if err := os.Mkdir(d, perm); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, fmt.Errorf("local postgres: create data dir: %w", err)
		}
		if err := os.Chmod(d, perm); err != nil { // umask
			return false, fmt.Errorf("local postgres: create data dir: %w", err)
		}
		if err := c.chown(d); err != nil {
			return false, fmt.Errorf("local postgres: data dir: %w", err)
		}
	}

	fi, err := os.Stat(dir)
	if err != nil {
		return false, fmt.Errorf("local postgres: data dir: %w", err)
	}
	if !fi.IsDir() {
		return false, fmt.Errorf("local postgres: data dir %s is not a directory", dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("local postgres: data dir: %w", err)
	}
	if len(entries) == 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return false, fmt.Errorf("local postgres: data dir: %w", err)
		}
		return true, c.chown(dir)
	}

	version, err := os.ReadFile(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		return false, fmt.Errorf("local postgres: data dir %s is not empty and holds no PostgreSQL cluster (no PG_VERSION); use an empty or missing directory", dir)
	}
	if v := strings.TrimSpace(string(version)); v != strconv.Itoa(c.bin.major) {
		return false, fmt.Errorf("local postgres: data dir %s holds a PostgreSQL %s cluster but the binaries in %s are PostgreSQL %d; use another data dir or the matching binaries (BinDir)", dir, v, c.bin.dir, c.bin.major)
	}
	owner := fi.Sys().(*syscall.Stat_t).Uid
	switch {
	case owner == c.serverUID():
	case c.runAs != nil && owner == 0:
		// A root-owned cluster (copied or restored as root): hand it over.
		c.log.Info("local postgres: giving root-owned data dir to the server user", "data_dir", dir, "user", c.runAs.name)
		err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return c.chown(p)
		})
		if err != nil {
			return false, fmt.Errorf("local postgres: chown data dir: %w", err)
		}
	default:
		return false, fmt.Errorf("local postgres: data dir %s is owned by uid %d, but the server runs as %s (uid %d)", dir, owner, c.serverUserName(), c.serverUID())
	}
	return false, nil
}

// checkReachable makes sure the server's user can search every existing
// directory above dir. Only needed when we are root (otherwise the server
// runs as us).
func (c *Cluster) checkReachable(dir string) error {
	if c.runAs == nil {
		return nil
	}
	// The deepest existing directory above dir, with symlinks resolved: the
	// kernel checks the directories the path really goes through.
	existing := filepath.Dir(dir)
	for {
		if _, err := os.Stat(existing); err == nil {
			break
		}
		if existing == filepath.Dir(existing) {
			return nil
		}
		existing = filepath.Dir(existing)
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return fmt.Errorf("local postgres: data dir: %w", err)
	}
	tmp, _ := filepath.EvalSymlinks(os.TempDir())
	var chain []string
	for d := real; ; d = filepath.Dir(d) {
		chain = append(chain, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(chain) - 1; i >= 0; i-- {
		d := chain[i]
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("local postgres: data dir: %w", err)
		}
		if c.runAs.canSearch(fi) {
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if tmp != "" && st.Uid == 0 && strings.HasPrefix(d, tmp+string(filepath.Separator)) {
			// A private temp dir of ours (e.g. the parent of t.TempDir()):
			// let others search it (not list it).
			mode := fi.Mode().Perm() | 0o001
			c.log.Debug("local postgres: chmod o+x so the server user can reach the data dir", "dir", d, "mode", mode)
			if err := os.Chmod(d, mode); err != nil {
				return fmt.Errorf("local postgres: data dir: %w", err)
			}
			continue
		}
		return fmt.Errorf("local postgres: data dir %s is unreachable for the server: running as root, PostgreSQL runs as system user %q, which cannot enter %s (mode %04o, owner uid %d); choose a data dir outside it (e.g. under /var/lib/citygrid) or allow it with: chmod o+x %s",
			dir, c.runAs.name, d, fi.Mode().Perm(), st.Uid, d)
	}
	return nil
}
