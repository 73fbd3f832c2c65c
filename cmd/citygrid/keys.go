package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"citygrid/access"
	"citygrid/httpapi"
	"citygrid/postgres"
)

const keysUsage = `usage:
  citygrid keys create -role ROLE -name NAME [-scope CODE,...] [-unit UNIT] [-source SOURCE] [-expires DURATION]
      make an API key; prints the token (shown once, never stored) alone on
      the first line and "id: ID" on the second. Roles: admin, dispatcher,
      handler (needs -unit), inspector, planner, viewer, integration (needs
      -source). -scope: grid codes whose subtrees the key sees (none: the
      whole district). -expires: a Go duration (720h) or days (90d).
  citygrid keys list
      the keys, never their tokens
  citygrid keys revoke ID
      revoke a key: it stops working on every running process within 1 s

The first admin key of a fresh database is made this way. The keys commands
use the same database as serve, the private cluster included while serve
runs; flags such as -database-url and -data-dir go before the action's own
arguments (citygrid keys revoke -data-dir DIR 12).
`

// keysCommand is citygrid keys: create, list, revoke.
type keysCommand struct {
	role, name, scope, unit, source, expires string
}

// keysFlags are the settings a keys command reads, of every command's:
// -help lists these and the command's own, not serve's.
var keysFlags = []string{"database-url", "data-dir", "log-level", "log-format"}

// usage makes -help print the keys usage and the flags that matter to it.
func (k *keysCommand) usage(fs *flag.FlagSet) { subcommandUsage(fs, keysUsage, "keys create:") }

// subcommandUsage makes -help print a subcommand's usage text, the
// database and log flags (keysFlags) and its own flags, whose usage starts
// with prefix — not serve's.
func subcommandUsage(fs *flag.FlagSet, text, prefix string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, text+"\nflags:\n")
		fs.VisitAll(func(f *flag.Flag) {
			if slices.Contains(keysFlags, f.Name) || strings.HasPrefix(f.Usage, prefix) {
				fmt.Fprintf(w, "  -%s\n    \t%s\n", f.Name, f.Usage)
			}
		})
	}
}

// createFlags are keys create's own flags (-role or --role alike).
func (k *keysCommand) createFlags(fs *flag.FlagSet) {
	k.usage(fs)
	fs.StringVar(&k.role, "role", "", "keys create: the key's role (admin, dispatcher, handler, inspector, planner, viewer, integration)")
	fs.StringVar(&k.name, "name", "", "keys create: the key's name, shown in case histories and the audit trail")
	fs.StringVar(&k.scope, "scope", "", "keys create: comma-separated grid codes whose subtrees the key sees; empty: the whole district")
	fs.StringVar(&k.unit, "unit", "", "keys create: a handler key's unit")
	fs.StringVar(&k.source, "source", "", "keys create: an integration key's source")
	fs.StringVar(&k.expires, "expires", "", "keys create: lifetime, a Go duration (720h) or days (90d); empty: no expiry")
}

// keysEnv is e with what a command says about the database (which cluster)
// sent to stderr: a keys command's stdout is its result alone, so that
// scripts can read the token from it.
func keysEnv(e *env) *env {
	return &env{stdout: e.stderr, stderr: e.stderr, logger: e.logger}
}

// cliContext names the operating-system user in the audit trail: the
// command line acts as admin, because whoever can run it can reach the
// database anyway.
func cliContext(ctx context.Context) context.Context {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	} else if v := os.Getenv("USER"); v != "" {
		name = v
	}
	ctx = access.WithPrincipal(ctx, &access.Principal{Name: "cli " + name, Role: access.RoleAdmin})
	return access.WithRequest(ctx, access.Request{Addr: "local (pid " + strconv.Itoa(os.Getpid()) + ")"})
}

func (k *keysCommand) create(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go before them)", args)
	}
	if k.role == "" || k.name == "" {
		return errors.New("-role and -name are required (citygrid keys -help)")
	}
	now := time.Now()
	key := access.Key{Name: k.name, Role: access.Role(k.role), Scope: splitCodes(k.scope), Unit: k.unit, Source: k.source}
	if k.expires != "" {
		d, err := parseLifetime(k.expires)
		if err != nil {
			return err
		}
		at := now.Add(d)
		key.ExpiresAt = &at
	}
	// Refuse a bad key before a database is opened (or a cluster started).
	if err := key.Validate(now); err != nil {
		return err
	}
	pool, closeDB, err := openDatabase(ctx, cfg, keysEnv(e))
	if err != nil {
		return err
	}
	defer closeDB()
	stored, token, err := httpapi.CreateKey(cliContext(ctx), postgres.NewKeyStore(pool), key, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, token)
	fmt.Fprintf(e.stdout, "id: %s\n", stored.IDString())
	e.logger.Info("key created", "id", stored.ID, "role", stored.Role, "scope", scopeText(stored.Scope), "expires", timeText(stored.ExpiresAt))
	return nil
}

func (k *keysCommand) list(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	pool, closeDB, err := openDatabase(ctx, cfg, keysEnv(e))
	if err != nil {
		return err
	}
	defer closeDB()
	keys, err := postgres.NewKeyStore(pool).Keys(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tSCOPE\tUNIT\tSOURCE\tCREATED\tEXPIRES\tREVOKED")
	for _, key := range keys {
		expires := timeText(key.ExpiresAt)
		if key.ExpiresAt != nil && !now.Before(*key.ExpiresAt) {
			expires += " (expired)"
		}
		name := key.Name
		if key.Demo {
			name += " [demo]"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", key.ID, cell(name), key.Role, cell(scopeText(key.Scope)),
			cell(key.Unit), cell(key.Source), timeText(&key.CreatedAt), expires, timeText(key.RevokedAt))
	}
	return tw.Flush()
}

func (k *keysCommand) revoke(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) != 1 {
		return errors.New("usage: citygrid keys revoke ID")
	}
	id, err := strconv.ParseInt(args[0], 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("key id %q is not a positive integer", args[0])
	}
	pool, closeDB, err := openDatabase(ctx, cfg, keysEnv(e))
	if err != nil {
		return err
	}
	defer closeDB()
	// The database keeps microseconds: compare at that precision below.
	now := time.Now().Truncate(time.Microsecond)
	key, err := postgres.NewKeyStore(pool).RevokeKey(cliContext(ctx), id, now)
	if err != nil {
		return err
	}
	if key.RevokedAt != nil && !key.RevokedAt.Equal(now) {
		fmt.Fprintf(e.stdout, "key %d (%s, %s) was already revoked at %s\n", key.ID, key.Name, key.Role, timeText(key.RevokedAt))
		return nil
	}
	fmt.Fprintf(e.stdout, "key %d (%s, %s) revoked\n", key.ID, key.Name, key.Role)
	return nil
}

// parseLifetime reads a Go duration (720h, 90m) or whole days (90d).
func parseLifetime(s string) (time.Duration, error) {
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*365 {
			return 0, fmt.Errorf("expires %q: want a Go duration (720h) or whole days (90d)", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("expires %q: want a Go duration (720h) or whole days (90d)", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("expires %q: want a lifetime above zero", s)
	}
	return d, nil
}

// splitCodes splits a comma-separated list of grid codes; none is nil (the
// whole district).
func splitCodes(s string) []string {
	var out []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, c)
		}
	}
	return out
}

func scopeText(scope []string) string {
	if len(scope) == 0 {
		return "whole district"
	}
	return strings.Join(scope, ",")
}

// timeText is t in local time to the minute, "-" for none.
func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04")
}

// cell is a table cell: "-" for nothing, and no tab or line break that
// would break the columns.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
