package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"citygrid/access"
	"citygrid/httpapi"
	"citygrid/postgres"
)

const usersUsage = `usage:
  citygrid users create -name NAME -role ROLE [-scope CODE,...] [-unit UNIT] [-display TEXT] [-password-stdin]
      make a user who signs in to the battle map (POST /v1/session). The
      password is read from the first line of stdin with -password-stdin
      (at least 12 characters), else made and printed once, alone on the
      first line. Roles: admin, dispatcher, handler (needs -unit),
      inspector, planner, viewer. -scope: grid codes whose subtrees the
      user sees (none: the whole district).
  citygrid users list
      the users, never their passwords
  citygrid users disable NAME
      disable a user: its sessions end on every running process within 1 s

The users commands use the same database as serve, like the keys commands.
`

// usersCommand is citygrid users: create, list, disable.
type usersCommand struct {
	name, role, scope, unit, display string
	passwordStdin                    bool
}

// stdin is where users create -password-stdin reads (tests replace it).
var stdin io.Reader = os.Stdin

func (u *usersCommand) usage(fs *flag.FlagSet) { subcommandUsage(fs, usersUsage, "users create:") }

func (u *usersCommand) createFlags(fs *flag.FlagSet) {
	u.usage(fs)
	fs.StringVar(&u.name, "name", "", "users create: the user name signed in with; it names the user in case histories and the audit trail")
	fs.StringVar(&u.role, "role", "", "users create: the user's role (admin, dispatcher, handler, inspector, planner, viewer)")
	fs.StringVar(&u.scope, "scope", "", "users create: comma-separated grid codes whose subtrees the user sees; empty: the whole district")
	fs.StringVar(&u.unit, "unit", "", "users create: a handler's unit")
	fs.StringVar(&u.display, "display", "", "users create: the display name")
	fs.BoolVar(&u.passwordStdin, "password-stdin", false, "users create: read the password from the first line of stdin (else one is made and printed)")
}

func (u *usersCommand) create(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q (flags go before them)", args)
	}
	if u.role == "" || u.name == "" {
		return errors.New("-role and -name are required (citygrid users -help)")
	}
	user := access.User{Name: u.name, DisplayName: u.display, Role: access.Role(u.role), Scope: splitCodes(u.scope), Unit: u.unit}
	if err := user.Validate(); err != nil {
		return err
	}
	password := ""
	if u.passwordStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read the password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
		if err := access.ValidatePassword(password); err != nil {
			return err
		}
	}
	pool, closeDB, err := openDatabase(ctx, cfg, keysEnv(e))
	if err != nil {
		return err
	}
	defer closeDB()
	stored, made, err := httpapi.CreateUser(cliContext(ctx), postgres.NewUserStore(pool), user, password)
	if err != nil {
		return err
	}
	if password == "" {
		fmt.Fprintln(e.stdout, made)
	}
	fmt.Fprintf(e.stdout, "user: %s (id %s)\n", stored.Name, stored.IDString())
	e.logger.Info("user created", "name", stored.Name, "role", stored.Role, "scope", scopeText(stored.Scope))
	return nil
}

func (u *usersCommand) list(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q", args)
	}
	pool, closeDB, err := openDatabase(ctx, cfg, keysEnv(e))
	if err != nil {
		return err
	}
	defer closeDB()
	users, err := postgres.NewUserStore(pool).Users(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tDISPLAY\tROLE\tSCOPE\tUNIT\tDISABLED\tCREATED")
	for _, x := range users {
		name := x.Name
		if x.Demo {
			name += " [demo]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%v\t%s\n", cell(name), cell(x.DisplayName), x.Role, cell(scopeText(x.Scope)), cell(x.Unit), x.Disabled, timeText(&x.CreatedAt))
	}
	return tw.Flush()
}

func (u *usersCommand) disable(ctx context.Context, cfg *Config, args []string, e *env) error {
	if len(args) != 1 {
		return errors.New("usage: citygrid users disable NAME")
	}
	pool, closeDB, err := openDatabase(ctx, cfg, keysEnv(e))
	if err != nil {
		return err
	}
	defer closeDB()
	stored, err := httpapi.UpdateUser(cliContext(ctx), postgres.NewUserStore(pool), args[0], time.Now(),
		func(x *access.User) error { x.Disabled = true; return nil })
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "user %s (%s) disabled: its sessions end on every running process within 1 s\n", stored.Name, stored.Role)
	return nil
}
