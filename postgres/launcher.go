package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// LocalConfig says where and how to run a private cluster.
type LocalConfig struct {
	// DataDir is the cluster directory: initialised when missing or empty,
	// reused when it already holds a cluster.
	DataDir string
	// Port is the TCP port on 127.0.0.1; 0 picks a free one.
	Port int
	// Ephemeral trades durability for speed (fsync off) and removes the
	// data directory on Stop: for tests.
	Ephemeral bool
	// BinDir overrides where initdb, pg_ctl and postgres are looked for.
	BinDir string
	Logger *slog.Logger
}

// Local is a running private PostgreSQL cluster with PostGIS.
type Local struct {
	cfg     LocalConfig
	bin     string
	port    int
	sockDir string
	cred    *syscall.Credential // nil: run as ourselves
	stopped bool
}

// ErrNoPostgres and ErrNoPostGIS say what to install.
var (
	ErrNoPostgres = errors.New("PostgreSQL server binaries not found (install postgresql-15, or set CITYGRID_DATABASE_URL)")
	ErrNoPostGIS  = errors.New("PostGIS not installed: apt-get install -y postgresql-15-postgis-3")
)

// localDatabase is the database the private cluster serves.
const localDatabase = "citygrid"

// StartLocal initialises (if needed) and starts a private cluster on
// 127.0.0.1, creates database "citygrid" with PostGIS, and returns once it
// accepts connections. PostgreSQL refuses to run as root, so as root the
// cluster runs as the unprivileged "postgres" system user.
func StartLocal(ctx context.Context, cfg LocalConfig) (*Local, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DataDir == "" {
		return nil, errors.New("local postgres: no data directory")
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("local postgres: %w", err)
	}
	cfg.DataDir = dir
	l := &Local{cfg: cfg}
	if l.bin, err = findBinDir(cfg.BinDir); err != nil {
		return nil, err
	}
	if err := checkPostGIS(l.bin); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		if l.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	// The socket directory is short and private: Unix socket paths are
	// limited to about 100 bytes, which deep data directories exceed.
	if l.sockDir, err = os.MkdirTemp("", "citygrid-pg-"); err != nil {
		return nil, fmt.Errorf("local postgres: %w", err)
	}
	if err := l.own(l.sockDir); err != nil {
		return nil, err
	}
	if err := l.initdb(ctx); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		l.port = cfg.Port
		if l.port == 0 {
			if l.port, err = freePort(); err != nil {
				return nil, fmt.Errorf("local postgres: %w", err)
			}
		}
		err = l.start(ctx)
		if err == nil {
			break
		}
		if attempt >= 2 || cfg.Port != 0 {
			return nil, err
		}
		cfg.Logger.Debug("local postgres: start failed, retrying on another port", "err", err)
	}
	if err := l.createDatabase(ctx); err != nil {
		_ = l.Stop(context.WithoutCancel(ctx))
		return nil, err
	}
	return l, nil
}

// URL returns the connection URL of the cluster's citygrid database.
func (l *Local) URL() string {
	return fmt.Sprintf("postgres://citygrid@127.0.0.1:%d/%s?sslmode=disable", l.port, localDatabase)
}

// Stop shuts the cluster down (fast mode) and, when ephemeral, removes its
// data. It is safe to call twice.
func (l *Local) Stop(ctx context.Context) error {
	if l.stopped {
		return nil
	}
	l.stopped = true
	_, err := l.run(ctx, "pg_ctl", "stop", "-D", l.cfg.DataDir, "-m", "fast", "-w", "-t", "60")
	if l.cfg.Ephemeral {
		if rmErr := os.RemoveAll(l.cfg.DataDir); err == nil {
			err = rmErr
		}
	}
	_ = os.RemoveAll(l.sockDir)
	if err != nil {
		return fmt.Errorf("local postgres: stop: %w", err)
	}
	return nil
}

// findBinDir looks for the server binaries: an explicit dir, pg_config's
// bindir, Debian's /usr/lib/postgresql/<newest>/bin, then PATH.
func findBinDir(explicit string) (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return false
			}
		}
		return true
	}
	if explicit != "" {
		if has(explicit) {
			return explicit, nil
		}
		return "", fmt.Errorf("%w: not in %s", ErrNoPostgres, explicit)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
		sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
		for _, d := range dirs {
			if has(d) {
				return d, nil
			}
		}
	}
	if p, err := exec.LookPath("postgres"); err == nil {
		if dir := filepath.Dir(p); has(dir) {
			return dir, nil
		}
	}
	return "", ErrNoPostgres
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// checkPostGIS looks for postgis.control where this server loads extensions.
func checkPostGIS(bin string) error {
	var candidates []string
	if out, err := exec.Command(filepath.Join(bin, "pg_config"), "--sharedir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	}
	if v := versionOf(bin); v > 0 {
		candidates = append(candidates, fmt.Sprintf("/usr/share/postgresql/%d", v))
	}
	for _, dir := range candidates {
		if _, err := os.Stat(filepath.Join(dir, "extension", "postgis.control")); err == nil {
			return nil
		}
	}
	return ErrNoPostGIS
}

func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, errors.New("local postgres: running as root needs the unprivileged \"postgres\" system user (apt-get install -y postgresql-15 creates it)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// own hands dir to the cluster's user when we run as root.
func (l *Local) own(dir string) error {
	if l.cred == nil {
		return nil
	}
	if err := os.Chown(dir, int(l.cred.Uid), int(l.cred.Gid)); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	return nil
}

// initdb creates the cluster unless the directory already holds one.
func (l *Local) initdb(ctx context.Context) error {
	dir := l.cfg.DataDir
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
		return l.checkTraversable(dir)
	}
	if err := l.mkdirAll(dir); err != nil {
		return err
	}
	if err := l.checkTraversable(dir); err != nil {
		return err
	}
	args := []string{"-D", dir, "-U", "citygrid", "--auth=trust", "-E", "UTF8"}
	if _, err := l.run(ctx, "initdb", append(args, "--locale=C.UTF-8")...); err != nil {
		l.cfg.Logger.Debug("initdb with C.UTF-8 failed, retrying without a locale", "err", err)
		_ = os.RemoveAll(dir)
		if err := l.mkdirAll(dir); err != nil {
			return err
		}
		if _, err := l.run(ctx, "initdb", append(args, "--no-locale")...); err != nil {
			return fmt.Errorf("local postgres: initdb: %w", err)
		}
	}
	conf := []string{
		"listen_addresses = '127.0.0.1'",
		"max_connections = 100",
		"shared_buffers = 256MB",
		"work_mem = 16MB",
		"maintenance_work_mem = 256MB",
		"logging_collector = off",
	}
	if l.cfg.Ephemeral {
		conf = append(conf, "fsync = off", "synchronous_commit = off", "full_page_writes = off")
	}
	f, err := os.OpenFile(filepath.Join(dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	_, err = f.WriteString("\n# citygrid private cluster\n" + strings.Join(conf, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// mkdirAll creates dir (0700, as PostgreSQL wants) owned by the cluster
// user; missing parents get 0755 so that the cluster user can pass through.
func (l *Local) mkdirAll(dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("local postgres: %w", err)
	}
	return l.own(dir)
}

// checkTraversable makes sure the cluster user can reach dir: as root, a
// data directory under a 0700 directory (such as /root or a test's temp dir)
// is out of the postgres user's reach.
func (l *Local) checkTraversable(dir string) error {
	if l.cred == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("local postgres: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok && fi.Mode().Perm()&0o001 == 0 && st.Uid != l.cred.Uid {
			return fmt.Errorf("local postgres: the cluster runs as user postgres, which cannot enter %s (mode %v); choose a data directory it can reach with -data-dir or CITYGRID_DATA_DIR (e.g. /var/lib/citygrid)", p, fi.Mode().Perm())
		}
		if p == "/" || p == "." {
			return nil
		}
	}
}

func (l *Local) start(ctx context.Context) error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", l.port, l.sockDir)
	logFile := filepath.Join(l.cfg.DataDir, "server.log")
	// A server left running from this data directory by a killed process:
	// stop it, then start fresh with our settings.
	if _, err := l.run(ctx, "pg_ctl", "status", "-D", l.cfg.DataDir); err == nil {
		_, _ = l.run(ctx, "pg_ctl", "stop", "-D", l.cfg.DataDir, "-m", "fast", "-w")
	}
	if _, err := l.run(ctx, "pg_ctl", "start", "-D", l.cfg.DataDir, "-o", opts, "-l", logFile, "-w", "-t", "60"); err != nil {
		return fmt.Errorf("local postgres: start: %w%s", err, tail(logFile, 10))
	}
	return nil
}

func (l *Local) createDatabase(ctx context.Context) error {
	admin := fmt.Sprintf("postgres://citygrid@127.0.0.1:%d/postgres?sslmode=disable", l.port)
	conn, err := connectRetry(ctx, admin)
	if err != nil {
		return fmt.Errorf("local postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, localDatabase).Scan(&exists); err != nil {
		return fmt.Errorf("local postgres: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+localDatabase); err != nil {
			return fmt.Errorf("local postgres: create database: %w", err)
		}
	}
	db, err := connectRetry(ctx, l.URL())
	if err != nil {
		return fmt.Errorf("local postgres: connect: %w", err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	if _, err := db.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		return fmt.Errorf("local postgres: create extension postgis: %w", err)
	}
	return nil
}

func connectRetry(ctx context.Context, url string) (*pgx.Conn, error) {
	var err error
	for i := 0; i < 50; i++ {
		var conn *pgx.Conn
		if conn, err = pgx.Connect(ctx, url); err == nil {
			return conn, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, err
}

// run executes a server binary as the cluster's user.
func (l *Local) run(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(l.bin, name), args...)
	if l.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: l.cred}
		cmd.Dir = "/"
	}
	// LC_ALL keeps messages in English and initdb's locale checks predictable.
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "LANG=C.UTF-8")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	l.cfg.Logger.Debug("local postgres", "cmd", name, "args", args)
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(lastLines(out.String(), 8)))
	}
	return out.String(), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return "\nserver log:\n" + lastLines(string(b), n)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
