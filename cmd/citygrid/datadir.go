package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// rootDataDirs holds root's private clusters, one per checkout. The cluster
// then runs as the postgres user, who cannot enter root's home (where a
// checkout often lies), so it cannot live in the checkout as a normal
// user's does.
const rootDataDirs = "/var/lib/citygrid"

// defaultDataDir is the private cluster's directory: .citygrid/pgdata in
// the working directory (the checkout, for make run), or for root (euid 0)
// a directory of that checkout's own under rootDataDirs, named after it and
// a hash of its path, so that clones never share a database and make clean
// (which removes it, see citygrid data-dir) resets exactly this one.
func defaultDataDir(euid int, wd string) string {
	if euid != 0 {
		return filepath.Join(".citygrid", "pgdata")
	}
	sum := sha256.Sum256([]byte(wd))
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, filepath.Base(wd))
	return filepath.Join(rootDataDirs, strings.TrimLeft(name, ".")+"-"+hex.EncodeToString(sum[:6]))
}

// workDir is the working directory with symbolic links resolved, so that a
// checkout reached by two paths keeps one cluster; "." when it cannot be
// read.
func workDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	if real, err := filepath.EvalSymlinks(wd); err == nil {
		wd = real
	}
	return wd
}

// runDataDir prints the absolute directory of the private cluster: the
// Makefile's clean target asks it which directory to remove.
func runDataDir(_ context.Context, cfg *Config, args []string, e *env) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, dir)
	return nil
}
