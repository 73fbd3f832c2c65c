package pglocal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// pgBinaries are the server programs of one PostgreSQL installation.
type pgBinaries struct {
	dir                    string
	initdb, pgctl, postgre string
	major                  int
}

// ErrNoPostgres and ErrNoPostGIS say what to install; Start wraps them
// with where it looked.
var (
	ErrNoPostgres = errors.New("PostgreSQL server binaries not found (install postgresql-15, or set CITYGRID_DATABASE_URL)")
	ErrNoPostGIS  = errors.New("PostGIS not installed: apt-get install -y postgresql-15-postgis-3")
)

// findBinaries looks for initdb, pg_ctl and postgres: in binDir when given,
// else in pg_config --bindir, the newest /usr/lib/postgresql/*/bin, PATH.
func findBinaries(binDir string) (pgBinaries, error) {
	var dirs []string
	if binDir != "" {
		dirs = []string{binDir}
	} else {
		if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
			dirs = append(dirs, strings.TrimSpace(string(out)))
		}
		dirs = append(dirs, debianVersionDirs("/usr/lib/postgresql", "bin")...)
		if p, err := exec.LookPath("initdb"); err == nil {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	for _, d := range dirs {
		b := pgBinaries{dir: d, initdb: filepath.Join(d, "initdb"), pgctl: filepath.Join(d, "pg_ctl"), postgre: filepath.Join(d, "postgres")}
		if !isExecutable(b.initdb) || !isExecutable(b.pgctl) || !isExecutable(b.postgre) {
			continue
		}
		out, err := exec.Command(b.postgre, "--version").Output()
		if err != nil {
			return b, fmt.Errorf("%s --version: %w", b.postgre, err)
		}
		m := regexp.MustCompile(`\(PostgreSQL\) (\d+)`).FindSubmatch(out)
		if m == nil {
			return b, fmt.Errorf("%s --version: unexpected output %q", b.postgre, out)
		}
		b.major, _ = strconv.Atoi(string(m[1]))
		return b, nil
	}
	if len(dirs) == 0 {
		return pgBinaries{}, fmt.Errorf("%w: no pg_config, no /usr/lib/postgresql/*/bin, no initdb on PATH", ErrNoPostgres)
	}
	return pgBinaries{}, fmt.Errorf("%w: no initdb, pg_ctl and postgres in %s", ErrNoPostgres, strings.Join(dirs, ", "))
}

// debianVersionDirs returns root/<version>/sub for every numeric version,
// newest first.
func debianVersionDirs(root, sub string) []string {
	entries, _ := os.ReadDir(root)
	var vs []int
	for _, e := range entries {
		if v, err := strconv.Atoi(e.Name()); err == nil {
			vs = append(vs, v)
		}
	}
	slices.Sort(vs)
	slices.Reverse(vs)
	var dirs []string
	for _, v := range vs {
		dirs = append(dirs, filepath.Join(root, strconv.Itoa(v), sub))
	}
	return dirs
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// checkPostGIS looks for postgis.control among the extension dirs of this
// PostgreSQL version.
func (b pgBinaries) checkPostGIS() error {
	var shares []string
	if out, err := exec.Command("pg_config", "--sharedir").Output(); err == nil {
		shares = append(shares, strings.TrimSpace(string(out)))
	}
	shares = append(shares,
		fmt.Sprintf("/usr/share/postgresql/%d", b.major),
		filepath.Join(b.dir, "..", "share", "postgresql"),
		filepath.Join(b.dir, "..", "share"))
	var looked []string
	for _, s := range shares {
		ext := filepath.Join(filepath.Clean(s), "extension")
		if _, err := os.Stat(filepath.Join(ext, "postgis.control")); err == nil {
			return nil
		}
		looked = append(looked, ext)
	}
	if b.major != 15 {
		return fmt.Errorf("PostGIS not installed: apt-get install -y postgresql-%d-postgis-3 (no postgis.control in %s)", b.major, strings.Join(looked, ", "))
	}
	return fmt.Errorf("%w (no postgis.control in %s)", ErrNoPostGIS, strings.Join(looked, ", "))
}
