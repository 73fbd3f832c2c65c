package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// LocalConfig says where and how to run a private cluster.
type LocalConfig struct {
	// DataDir is the cluster directory. It is created (initdb) when it is
	// missing or empty and reused when it already holds a cluster.
	DataDir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one at every start.
	Port int
	// Ephemeral marks a throwaway (test) cluster: durability is switched off
	// (fsync, synchronous_commit, full_page_writes), Stop removes DataDir,
	// and a watchdog stops the server and removes DataDir should this
	// process die without calling Stop.
	Ephemeral bool
	// BinDir holds initdb, pg_ctl and postgres. Empty means: pg_config
	// --bindir, else the newest /usr/lib/postgresql/*/bin, else PATH.
	BinDir string
	// Logger gets the commands run, at debug level. May be nil.
	Logger *slog.Logger
}

// Local is a running private cluster.
type Local struct {
	cfg       LocalConfig // DataDir absolute
	bin       pgBinaries
	runAs     *runUser // nil: run as the current user
	log       *slog.Logger
	port      int
	socketDir string
	watchdog  *exec.Cmd
	created   bool // initdb ran in this StartLocal

	mu      sync.Mutex
	stopped bool
	stopErr error
}

const (
	localUser       = "citygrid"
	localDatabase   = "citygrid"
	confFile        = "citygrid.conf" // rewritten at every start, included by postgresql.conf
	serverLogFile   = "server.log"    // in the data dir; pg_ctl -l appends to it
	socketDirPrefix = "cgpg-"         // /tmp/cgpg-NNN: short, for the Unix socket
	includeLine     = "include_if_exists = '" + confFile + "'"
)

// StartLocal initialises (if needed) and starts a cluster, creates database
// "citygrid" and the postgis extension in it, and returns once it accepts
// connections.
//
// PostgreSQL refuses to run as root: when this process is root the server
// runs as the "postgres" system user, which then owns DataDir. Every
// directory above DataDir must be searchable by that user; directories that
// StartLocal creates are, and a root-only directory under the system temp
// dir (such as the parent of a t.TempDir) gets o+x; any other one is an
// error that names it.
//
// If a server is still running from DataDir: when the process that started
// it is alive, the data dir is in use and StartLocal fails; when that
// process died without Stop (or the server was started by hand), the
// server is stopped and started again with this configuration. A stale
// postmaster.pid whose process is gone is removed.
func StartLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("local postgres: no data dir")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local postgres: %w", err)
	}
	cfg.DataDir = dir
	l := &Local{cfg: cfg, log: cfg.Logger}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	if l.bin, err = findBinaries(cfg.BinDir); err != nil {
		return nil, err
	}
	if err := l.bin.checkPostGIS(); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if l.runAs, err = lookupRunUser("postgres"); err != nil {
			return nil, err
		}
	}
	if err := l.start(ctx); err != nil {
		if l.socketDir != "" {
			os.RemoveAll(l.socketDir)
		}
		if l.cfg.Ephemeral && l.created && !l.stopped {
			os.RemoveAll(l.cfg.DataDir) // the server never ran
		}
		return nil, err
	}
	return l, nil
}

// URL is the connection URL of database citygrid, over TCP on 127.0.0.1.
func (l *Local) URL() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", localUser, l.port, localDatabase)
}

// Port is the TCP port the server listens on.
func (l *Local) Port() int { return l.port }

// DataDir is the absolute cluster directory.
func (l *Local) DataDir() string { return l.cfg.DataDir }

// Stop stops the server (pg_ctl stop -m fast) and removes its socket dir;
// for an ephemeral cluster it also removes the data dir. Calling it again
// returns the first call's result.
func (l *Local) Stop(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return l.stopErr
	}
	l.stopped = true
	// Last: should we die while stopping, the watchdog still cleans up.
	defer l.stopWatchdog()
	var errs []error
	if _, err := l.pgctl(ctx, "stop", "-D", l.cfg.DataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
		errs = append(errs, err)
		if l.cfg.Ephemeral {
			// Don't leave a server running on a deleted directory.
			_, err := l.pgctl(context.WithoutCancel(ctx), "stop", "-D", l.cfg.DataDir, "-m", "immediate", "-w", "-t", "30")
			if err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(l.socketDir); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		os.Remove(filepath.Join(l.cfg.DataDir, ownerFile))
	}
	if l.cfg.Ephemeral {
		if err := os.RemoveAll(l.cfg.DataDir); err != nil {
			errs = append(errs, err)
		}
	}
	l.stopErr = errors.Join(errs...)
	return l.stopErr
}

func (l *Local) start(ctx context.Context) error {
	fresh, err := l.prepareDataDir()
	if err != nil {
		return err
	}
	if fresh {
		l.created = true
		if err := l.initdb(ctx); err != nil {
			return err
		}
	} else if err := l.handleRunningServer(ctx); err != nil {
		return err
	}
	if err := l.ensureInclude(); err != nil {
		return err
	}
	if l.socketDir, err = l.makeSocketDir(); err != nil {
		return err
	}
	if err := l.startServer(ctx); err != nil {
		return err
	}
	if err := l.createDatabase(ctx); err != nil {
		l.Stop(context.WithoutCancel(ctx))
		return err
	}
	if err := l.writeOwner(); err != nil {
		l.Stop(context.WithoutCancel(ctx))
		return err
	}
	if l.cfg.Ephemeral {
		l.startWatchdog()
	}
	return nil
}

// The owner file names the process that started the running server: PID
// and start time (so that a recycled PID is not taken for it).
const ownerFile = "citygrid.owner"

func (l *Local) writeOwner() error {
	path := filepath.Join(l.cfg.DataDir, ownerFile)
	st := processStart(os.Getpid())
	if err := os.WriteFile(path, []byte(fmt.Sprintf("%d %s\n", os.Getpid(), st)), 0o644); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return l.chown(path)
}

// liveOwner returns the PID of the process that started the running server
// if that process is still alive.
func (l *Local) liveOwner() (int, bool) {
	data, err := os.ReadFile(filepath.Join(l.cfg.DataDir, ownerFile))
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

// processStart is the start time of process pid (field 22 of
// /proc/PID/stat), or "" when there is no such process.
func processStart(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: state is field 3, starttime field 22.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// ---- binaries ----

type pgBinaries struct {
	dir                    string
	initdb, pgctl, postgre string
	major                  int
}

// ErrNoPostgres and ErrNoPostGIS say what to install; StartLocal wraps them
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

// ---- running commands ----

// runUser is the unprivileged account the server runs as when we are root.
type runUser struct {
	name     string
	uid, gid uint32
	groups   []uint32 // supplementary, primary included
}

func lookupRunUser(name string) (*runUser, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as an unprivileged user, but there is no %q system user (create it: useradd --system --home /var/lib/postgresql %s): %w", name, name, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s: non-numeric uid/gid %s/%s", name, u.Uid, u.Gid)
	}
	if uid == 0 {
		return nil, fmt.Errorf("user %s has uid 0; PostgreSQL refuses to run as root", name)
	}
	r := &runUser{name: name, uid: uint32(uid), gid: uint32(gid), groups: []uint32{uint32(gid)}}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if g, err := strconv.ParseUint(id, 10, 32); err == nil && !slices.Contains(r.groups, uint32(g)) {
				r.groups = append(r.groups, uint32(g))
			}
		}
	}
	return r, nil
}

// command prepares a PostgreSQL binary run as the server's user, with a
// clean environment (no PG* variables, C messages) and cwd "/".
func (l *Local) command(ctx context.Context, path string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = "/"
	cmd.WaitDelay = 10 * time.Second
	env := []string{"LANG=C"}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "LC_") || k == "LANG" || k == "LANGUAGE" || k == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	if l.runAs != nil {
		env = append(env, "HOME=/")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: l.runAs.uid, Gid: l.runAs.gid, Groups: l.runAs.groups}}
	} else if h, ok := os.LookupEnv("HOME"); ok {
		env = append(env, "HOME="+h)
	}
	cmd.Env = env
	return cmd
}

// run runs a PostgreSQL binary and returns its combined output; the error
// includes the output.
func (l *Local) run(ctx context.Context, path string, args ...string) (string, error) {
	cmd := l.command(ctx, path, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	l.log.Debug("local postgres: ran command", "cmd", filepath.Base(path), "args", args, "took", time.Since(t0).Round(time.Millisecond), "err", err, "output", strings.TrimSpace(out.String()))
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(path), strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.String(), nil
}

func (l *Local) pgctl(ctx context.Context, args ...string) (string, error) {
	return l.run(ctx, l.bin.pgctl, args...)
}

// chown gives path to the server's user when we are root.
func (l *Local) chown(path string) error {
	if l.runAs == nil {
		return nil
	}
	return os.Lchown(path, int(l.runAs.uid), int(l.runAs.gid))
}

func (l *Local) serverUID() uint32 {
	if l.runAs != nil {
		return l.runAs.uid
	}
	return uint32(os.Geteuid())
}

func (l *Local) serverUserName() string {
	if l.runAs != nil {
		return l.runAs.name
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "uid " + strconv.Itoa(os.Geteuid())
}

// ---- data dir ----

// prepareDataDir makes the data dir usable by the server's user and reports
// whether it needs initdb.
func (l *Local) prepareDataDir() (fresh bool, err error) {
	dir := l.cfg.DataDir
	if err := l.checkReachable(dir); err != nil {
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
		if err := l.chown(d); err != nil {
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
		return true, l.chown(dir)
	}

	version, err := os.ReadFile(filepath.Join(dir, "PG_VERSION"))
	if err != nil {
		return false, fmt.Errorf("local postgres: data dir %s is not empty and holds no PostgreSQL cluster (no PG_VERSION); use an empty or missing directory", dir)
	}
	if v := strings.TrimSpace(string(version)); v != strconv.Itoa(l.bin.major) {
		return false, fmt.Errorf("local postgres: data dir %s holds a PostgreSQL %s cluster but the binaries in %s are PostgreSQL %d; use another data dir or the matching binaries (BinDir)", dir, v, l.bin.dir, l.bin.major)
	}
	owner := fi.Sys().(*syscall.Stat_t).Uid
	switch {
	case owner == l.serverUID():
	case l.runAs != nil && owner == 0:
		// A root-owned cluster (copied or restored as root): hand it over.
		l.log.Info("local postgres: giving root-owned data dir to the server user", "data_dir", dir, "user", l.runAs.name)
		err := filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return l.chown(p)
		})
		if err != nil {
			return false, fmt.Errorf("local postgres: chown data dir: %w", err)
		}
	default:
		return false, fmt.Errorf("local postgres: data dir %s is owned by uid %d, but the server runs as %s (uid %d)", dir, owner, l.serverUserName(), l.serverUID())
	}
	return false, nil
}

// checkReachable makes sure the server's user can search every existing
// directory above dir. Only needed when we are root (otherwise the server
// runs as us).
func (l *Local) checkReachable(dir string) error {
	if l.runAs == nil {
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
		if l.runAs.canSearch(fi) {
			continue
		}
		st := fi.Sys().(*syscall.Stat_t)
		if tmp != "" && st.Uid == 0 && strings.HasPrefix(d, tmp+string(filepath.Separator)) {
			// A private temp dir of ours (e.g. the parent of t.TempDir()):
			// let others search it (not list it).
			mode := fi.Mode().Perm() | 0o001
			l.log.Debug("local postgres: chmod o+x so the server user can reach the data dir", "dir", d, "mode", mode)
			if err := os.Chmod(d, mode); err != nil {
				return fmt.Errorf("local postgres: data dir: %w", err)
			}
			continue
		}
		return fmt.Errorf("local postgres: data dir %s is unreachable for the server: running as root, PostgreSQL runs as system user %q, which cannot enter %s (mode %04o, owner uid %d); choose a data dir outside it (e.g. under /var/lib/citygrid) or allow it with: chmod o+x %s",
			dir, l.runAs.name, d, fi.Mode().Perm(), st.Uid, d)
	}
	return nil
}

func (u *runUser) canSearch(fi fs.FileInfo) bool {
	st := fi.Sys().(*syscall.Stat_t)
	perm := fi.Mode().Perm()
	switch {
	case st.Uid == u.uid:
		return perm&0o100 != 0
	case slices.Contains(u.groups, st.Gid):
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

func (l *Local) initdb(ctx context.Context) error {
	args := []string{"-D", l.cfg.DataDir, "-U", localUser, "--auth=trust", "-E", "UTF8", "--no-instructions"}
	if l.cfg.Ephemeral {
		args = append(args, "--no-sync")
	}
	t0 := time.Now()
	out, err := l.run(ctx, l.bin.initdb, append(args, "--locale=C.UTF-8")...)
	if err != nil && strings.Contains(strings.ToLower(out), "locale") && ctx.Err() == nil {
		l.log.Debug("local postgres: locale C.UTF-8 unavailable, retrying initdb with --no-locale")
		if err := l.emptyDataDir(); err != nil {
			return err
		}
		_, err = l.run(ctx, l.bin.initdb, append(args, "--no-locale")...)
	}
	if err != nil {
		return fmt.Errorf("local postgres: initdb: %w", err)
	}
	l.log.Debug("local postgres: initialised cluster", "data_dir", l.cfg.DataDir, "took", time.Since(t0).Round(time.Millisecond))
	return nil
}

// emptyDataDir removes what a failed initdb left in the data dir.
func (l *Local) emptyDataDir() error {
	entries, err := os.ReadDir(l.cfg.DataDir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(l.cfg.DataDir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// ensureInclude makes postgresql.conf include citygrid.conf (last, so our
// settings win over postgresql.conf; ALTER SYSTEM still wins over both).
func (l *Local) ensureInclude() error {
	path := filepath.Join(l.cfg.DataDir, "postgresql.conf")
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

func (l *Local) writeConf() error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by citygrid at every start of this cluster: edits are lost.\n")
	fmt.Fprintf(&b, "# Use ALTER SYSTEM (postgresql.auto.conf) for your own settings.\n")
	fmt.Fprintf(&b, "listen_addresses = '127.0.0.1'\n")
	fmt.Fprintf(&b, "port = %d\n", l.port)
	fmt.Fprintf(&b, "unix_socket_directories = '%s'\n", l.socketDir)
	fmt.Fprintf(&b, "max_connections = 100\n")
	fmt.Fprintf(&b, "shared_buffers = 256MB\n")
	fmt.Fprintf(&b, "work_mem = 16MB\n")
	fmt.Fprintf(&b, "maintenance_work_mem = 256MB\n")
	fmt.Fprintf(&b, "effective_cache_size = 1GB\n")
	fmt.Fprintf(&b, "random_page_cost = 1.1\n")
	fmt.Fprintf(&b, "max_wal_size = 1GB\n")
	fmt.Fprintf(&b, "log_min_duration_statement = -1\n")
	if l.cfg.Ephemeral {
		fmt.Fprintf(&b, "# ephemeral (test) cluster: no durability\n")
		fmt.Fprintf(&b, "fsync = off\n")
		fmt.Fprintf(&b, "synchronous_commit = off\n")
		fmt.Fprintf(&b, "full_page_writes = off\n")
	}
	path := filepath.Join(l.cfg.DataDir, confFile)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if err := l.chown(path); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return nil
}

// makeSocketDir creates a short directory for the Unix socket (socket paths
// are limited to about 100 bytes), owned by the server's user.
func (l *Local) makeSocketDir() (string, error) {
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
	if err := l.chown(d); err != nil {
		os.Remove(d)
		return "", fmt.Errorf("local postgres: socket dir: %w", err)
	}
	return d, nil
}

// ---- a server left running ----

// handleRunningServer deals with a postmaster.pid left in the data dir. If
// its postmaster is alive and the process that started it (citygrid.owner)
// still runs, the data dir is in use: error. If that process died without
// stopping it (or it was started by hand), it is stopped: we restart it
// with our settings. If no
// process runs in the data dir any more, the stale pid file is removed (a
// recycled PID would otherwise make PostgreSQL refuse to start).
func (l *Local) handleRunningServer(ctx context.Context) error {
	pidFile := filepath.Join(l.cfg.DataDir, "postmaster.pid")
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
	realDir, err := filepath.EvalSymlinks(l.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if pid > 0 && processCwd(pid) == realDir {
		if owner, ok := l.liveOwner(); ok {
			port := "?"
			if len(lines) > 3 {
				port = strings.TrimSpace(lines[3])
			}
			return fmt.Errorf("local postgres: data dir %s is in use: its server (pid %d, port %s) belongs to running process %d; stop that process or use another data dir", l.cfg.DataDir, pid, port, owner)
		}
		l.log.Info("local postgres: a server from an earlier run is still running from the data dir; stopping it to restart it", "data_dir", l.cfg.DataDir, "pid", pid)
		if _, err := l.pgctl(ctx, "stop", "-D", l.cfg.DataDir, "-m", "fast", "-w", "-t", "60"); err != nil {
			return fmt.Errorf("local postgres: stop the server left running from %s (pid %d): %w", l.cfg.DataDir, pid, err)
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
			return fmt.Errorf("local postgres: processes %v still run in data dir %s though its postmaster (pid %d) is gone; stop them first", left, l.cfg.DataDir, pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	l.log.Debug("local postgres: removing stale postmaster.pid", "pid", pid)
	if err := os.Remove(pidFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local postgres: %w", err)
	}
	return nil
}

func processCwd(pid int) string {
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		return ""
	}
	return cwd
}

// processesIn lists the processes whose working directory is dir (a
// postmaster and its backends run in their data dir).
func processesIn(dir string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && processCwd(pid) == dir {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ---- start ----

func (l *Local) startServer(ctx context.Context) error {
	attempts := 1
	if l.cfg.Port == 0 {
		attempts = 2 // a picked port may be taken before the server binds it
	}
	var err error
	for i := 0; i < attempts; i++ {
		l.port = l.cfg.Port
		if l.port == 0 {
			if l.port, err = freePort(); err != nil {
				return fmt.Errorf("local postgres: pick a port: %w", err)
			}
		}
		if err = l.writeConf(); err != nil {
			return err
		}
		var inUse bool
		if inUse, err = l.pgctlStart(ctx); err == nil || !inUse {
			break
		}
		l.log.Debug("local postgres: port taken, retrying with another", "port", l.port)
	}
	return err
}

// pgctlStart runs pg_ctl start and waits until the server accepts
// connections. On failure the error carries the end of the server log.
func (l *Local) pgctlStart(ctx context.Context) (portInUse bool, err error) {
	logPath := filepath.Join(l.cfg.DataDir, serverLogFile)
	var offset int64
	if fi, err := os.Stat(logPath); err == nil {
		offset = fi.Size()
	}
	t0 := time.Now()
	_, err = l.pgctl(ctx, "start", "-D", l.cfg.DataDir, "-l", logPath, "-w", "-t", "60")
	if err == nil {
		l.log.Debug("local postgres: server started", "port", l.port, "took", time.Since(t0).Round(time.Millisecond))
		return false, nil
	}
	tail := logTail(logPath, offset, 20)
	portInUse = strings.Contains(tail, "Address already in use")
	return portInUse, fmt.Errorf("local postgres: start server on port %d: %w\nlast lines of %s:\n%s", l.port, err, logPath, tail)
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

// createDatabase creates database citygrid and the postgis extension in it
// when missing.
func (l *Local) createDatabase(ctx context.Context) error {
	base := fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", localUser, l.port)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return fmt.Errorf("local postgres: connect: %w", err)
	}
	var exists bool
	err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, localDatabase).Scan(&exists)
	if err == nil && !exists {
		_, err = conn.Exec(ctx, `CREATE DATABASE `+localDatabase)
	}
	conn.Close(ctx)
	if err != nil {
		return fmt.Errorf("local postgres: create database %s: %w", localDatabase, err)
	}
	conn, err = pgx.Connect(ctx, l.URL())
	if err != nil {
		return fmt.Errorf("local postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		return fmt.Errorf("local postgres: create extension postgis: %w", err)
	}
	return nil
}

// watchdogPipes keeps the write ends of the watchdogs' pipes open (and
// reachable) until Stop: the watchdog acts when it reads EOF, which happens
// when this process is gone, however it died.
var watchdogPipes sync.Map // *Local -> *os.File

// startWatchdog starts a detached shell that, should this process die
// without Stop, shuts the ephemeral server down (SIGQUIT: immediate) and
// removes its directories. Stop kills it.
func (l *Local) startWatchdog() {
	data, err := os.ReadFile(filepath.Join(l.cfg.DataDir, "postmaster.pid"))
	if err != nil {
		l.log.Debug("local postgres: no watchdog", "err", err)
		return
	}
	pmPID := strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0])
	r, w, err := os.Pipe()
	if err != nil {
		l.log.Debug("local postgres: no watchdog", "err", err)
		return
	}
	defer r.Close()
	const script = `read _
kill -QUIT "$1" 2>/dev/null
i=0; while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
rm -rf "$2" "$3"`
	cmd := exec.Command("/bin/sh", "-c", script, "citygrid-pg-watchdog", pmPID, l.cfg.DataDir, l.socketDir)
	cmd.Dir = "/"
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // survive Ctrl-C to our process group
	if err := cmd.Start(); err != nil {
		w.Close()
		l.log.Debug("local postgres: no watchdog", "err", err)
		return
	}
	watchdogPipes.Store(l, w)
	l.watchdog = cmd
}

// stopWatchdog ends the watchdog without letting it act.
func (l *Local) stopWatchdog() {
	if l.watchdog == nil {
		return
	}
	l.watchdog.Process.Kill()
	l.watchdog.Wait()
	if w, ok := watchdogPipes.LoadAndDelete(l); ok {
		w.(*os.File).Close()
	}
}
