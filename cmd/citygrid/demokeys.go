package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"citygrid/access"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/postgres"
)

// demoKeysFile is where serve -demo writes the keys it issues, relative to
// the working directory (the checkout, for make run): the README's curl
// lines read it.
var demoKeysFile = filepath.Join(".citygrid", "demo-keys.env")

// demoKey is one key serve -demo issues.
type demoKey struct {
	env   string // the variable in demo-keys.env
	what  string // its scope, unit or source, in words
	key   access.Key
	token string
	// user and password: the demo user of the same role, scope and unit
	// (none for the integration: systems get keys).
	user     *access.User
	password string
}

// userEnv is the variable of a demo key's user: CG_X_KEY → CG_X_USER (and
// CG_X_PASSWORD).
func (k *demoKey) userEnv(suffix string) string {
	return strings.TrimSuffix(k.env, "_KEY") + "_" + suffix
}

// demoUserName is the user name of a demo key's user: demo key CG_STREET_DISPATCHER_KEY → demo-street-dispatcher.
func demoUserName(env string) string {
	return "demo-" + strings.ReplaceAll(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(env, "CG_"), "_KEY")), "_", "-")
}

// demoPlace is what the demo keys are cut to, read from the database so
// that nothing about the district is fixed here: the first street, the
// unit its cases go to by default, and the source most cases came from.
type demoPlace struct {
	street      *grid.Grid
	unit        string
	source      string
	sourceGuess bool // no cases yet: the source is a stand-in
}

// findDemoPlace reads the first street (by code) and its default unit (the
// street office in the demo: every case of its street that no narrower
// rule gives to another unit), and the commonest source among sources (most
// cases first; GET /v1/sources).
func findDemoPlace(ctx context.Context, grids *postgres.GridStore, sources []string) (*demoPlace, error) {
	streets, err := grids.FindGrids(ctx, grid.Filter{Level: grid.LevelStreet, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(streets) == 0 {
		// A district with no streets: the first grid stands in.
		if streets, err = grids.FindGrids(ctx, grid.Filter{Limit: 1}); err != nil {
			return nil, err
		}
	}
	if len(streets) == 0 {
		return nil, fmt.Errorf("demo keys: the database holds no grids")
	}
	p := &demoPlace{street: streets[0], unit: streets[0].Unit}
	if p.unit == "" {
		// No default unit: the unit of its first category rule.
		prefixes := make([]string, 0, len(p.street.UnitsByCategory))
		for prefix := range p.street.UnitsByCategory {
			prefixes = append(prefixes, prefix)
		}
		slices.Sort(prefixes)
		if len(prefixes) == 0 {
			return nil, fmt.Errorf("demo keys: street %s names no unit for a handler key", p.street.Code)
		}
		p.unit = p.street.UnitsByCategory[prefixes[0]]
	}
	if len(sources) > 0 {
		p.source = sources[0]
	} else {
		p.source, p.sourceGuess = "demo", true
	}
	return p, nil
}

// demoKeys lists the keys of every role for place.
func demoKeys(p *demoPlace) []*demoKey {
	street := []string{p.street.Code}
	inStreet := fmt.Sprintf("scope %s (%s)", p.street.Code, p.street.Name)
	source := "source " + p.source
	if p.sourceGuess {
		source += " (no cases stored yet)"
	}
	key := func(env, what, name string, role access.Role, scope []string) *demoKey {
		return &demoKey{env: env, what: what, key: access.Key{Name: "demo " + name, Role: role, Scope: scope, Demo: true}}
	}
	keys := []*demoKey{
		key("CG_ADMIN_KEY", "whole district", "admin", access.RoleAdmin, nil),
		key("CG_DISPATCHER_KEY", "whole district", "dispatcher", access.RoleDispatcher, nil),
		key("CG_STREET_DISPATCHER_KEY", inStreet, "street dispatcher "+p.street.Code, access.RoleDispatcher, street),
		key("CG_HANDLER_KEY", "unit "+p.unit+", "+inStreet, "handler "+p.unit, access.RoleHandler, street),
		key("CG_INSPECTOR_KEY", inStreet, "inspector "+p.street.Code, access.RoleInspector, street),
		key("CG_PLANNER_KEY", "whole district", "planner", access.RolePlanner, nil),
		key("CG_VIEWER_KEY", "whole district", "viewer", access.RoleViewer, nil),
		key("CG_INTEGRATION_KEY", source+", whole district", "integration "+p.source, access.RoleIntegration, nil),
	}
	keys[3].key.Unit = p.unit
	keys[7].key.Source = p.source
	return keys
}

// issueDemoKeys revokes the keys an earlier serve -demo issued, issues a
// fresh one for every role, prints them and writes them to file (mode
// 0600). Nothing is fixed in code: the tokens are new at every start, the
// scopes come from the database.
func issueDemoKeys(ctx context.Context, keys *postgres.KeyStore, users *postgres.UserStore, grids *postgres.GridStore, sources []string, file string, e *env) error {
	ctx = access.WithPrincipal(ctx, &access.Principal{Name: "serve -demo", Role: access.RoleAdmin})
	now := time.Now()
	revoked, err := keys.RevokeDemoKeys(ctx, now)
	if err != nil {
		return err
	}
	place, err := findDemoPlace(ctx, grids, sources)
	if err != nil {
		return err
	}
	list := demoKeys(place)
	for _, k := range list {
		stored, token, err := httpapi.CreateKey(ctx, keys, k.key, now)
		if err != nil {
			return fmt.Errorf("demo key %s: %w", k.env, err)
		}
		k.key, k.token = *stored, token
		if k.key.Role == access.RoleIntegration {
			continue
		}
		// A user beside each key, reset at every start: enabled, with a
		// fresh password and no session of an earlier start.
		u := access.User{Name: demoUserName(k.env), DisplayName: strings.TrimPrefix(k.key.Name, "demo "), Role: k.key.Role,
			Scope: k.key.Scope, Unit: k.key.Unit, Demo: true}
		if err := u.Validate(); err != nil {
			return fmt.Errorf("demo user %s: %w", u.Name, err)
		}
		k.password = access.NewPassword()
		u.PasswordHash = access.HashPassword(k.password)
		if k.user, err = users.ResetDemoUser(ctx, u); err != nil {
			return fmt.Errorf("demo user %s: %w", u.Name, err)
		}
	}
	if err := writeDemoKeys(file, list, place.street, now); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "demo keys (%d of an earlier start revoked), also in %s (. %s, then curl -H \"Authorization: Bearer $CG_ADMIN_KEY\" ...):\n", revoked, file, file)
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, k := range list {
		// The description last: tabwriter counts a CJK name's width wrong.
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", k.env, k.key.Role, k.token, k.what)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "demo users (sign in on the battle map, or POST /v1/session), passwords new at every start:\n")
	tw = tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	for _, k := range list {
		if k.user != nil {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", k.user.Name, k.user.Role, k.password, k.what)
		}
	}
	return tw.Flush()
}

// writeDemoKeys writes the keys as shell assignments, each under a comment
// saying what it may see, readable only by the owner (the tokens are
// credentials); it replaces the file whole, never leaving half of it.
// The street the scoped keys are cut to goes in too (CG_DEMO_STREET), for
// queries such as grid=$CG_DEMO_STREET.
func writeDemoKeys(file string, keys []*demoKey, street *grid.Grid, at time.Time) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# citygrid demo API keys, issued by serve -demo at %s.\n", at.Format(time.RFC3339))
	fmt.Fprintf(&b, "# Every serve -demo start revokes them and issues new ones. Load them with: . %s\n", file)
	for _, k := range keys {
		fmt.Fprintf(&b, "\n# %s, %s (key %d)\n%s=%s\n", k.key.Role, k.what, k.key.ID, k.env, k.token)
	}
	fmt.Fprintf(&b, "\n# demo users of the same roles and scopes: sign in with the name and password\n")
	for _, k := range keys {
		if k.user != nil {
			fmt.Fprintf(&b, "%s=%s\n%s=%s\n", k.userEnv("USER"), shellWord(k.user.Name), k.userEnv("PASSWORD"), shellWord(k.password))
		}
	}
	fmt.Fprintf(&b, "\n# the street the scoped keys are cut to (%s)\nCG_DEMO_STREET=%s\n", street.Name, shellWord(street.Code))
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("demo keys: %w", err)
	}
	f, err := os.CreateTemp(dir, ".demo-keys-*") // mode 0600
	if err != nil {
		return fmt.Errorf("demo keys: %w", err)
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("demo keys: %w", err)
	}
	return nil
}

// shellWord quotes s for a shell assignment unless it is plain.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
