package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"citygrid/access"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestUsersCommand: users create makes a user with a printed password or
// one from stdin, refuses a bad one before the database; users disable
// disables it; both are audited as the command line.
func TestUsersCommand(t *testing.T) {
	dbURL := dbtest.URL(t)
	pool := dbtest.Pool(t)
	ctx := context.Background()
	run := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := Run(ctx, append([]string{"users"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	name := "cli-" + access.NewPassword()[:8]
	code, out, errOut := run("create", "-database-url", dbURL, "-name", name, "-role", "planner", "-display", "规划 一")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 || len(lines[0]) < access.MinPasswordLen || !strings.HasPrefix(lines[1], "user: "+name) {
		t.Fatalf("users create = %d %q %q, want the password and the user", code, out, errOut)
	}
	users := postgres.NewUserStore(pool)
	u, err := users.UserByName(ctx, name)
	if err != nil || u == nil || !access.CheckPassword(u.PasswordHash, lines[0]) || u.DisplayName != "规划 一" {
		t.Fatalf("the user made: %+v %v, want the printed password to match", u, err)
	}

	stdin = strings.NewReader("from stdin 12345\n")
	t.Cleanup(func() { stdin = nil })
	code, out, _ = run("create", "-database-url", dbURL, "-name", name+"-2", "-role", "viewer", "-password-stdin")
	if u, _ := users.UserByName(ctx, name+"-2"); code != 0 || strings.Count(out, "\n") != 1 || u == nil || !access.CheckPassword(u.PasswordHash, "from stdin 12345") {
		t.Errorf("users create -password-stdin = %d %q, want the user with that password and no password printed", code, out)
	}
	stdin = strings.NewReader("short\n")
	if code, _, errOut := run("create", "-database-url", dbURL, "-name", name+"-3", "-role", "viewer", "-password-stdin"); code != 1 || !strings.Contains(errOut, "at least 12") {
		t.Errorf("a short password = %d %q", code, errOut)
	}
	for _, c := range [][]string{
		{"create", "-name", "x", "-role", "handler"},
		{"create", "-name", "x", "-role", "integration"},
		{"create", "-name", "bad name", "-role", "viewer"},
	} {
		if code, _, errOut := run(c...); code != 1 || errOut == "" {
			t.Errorf("users %v = %d %q, want a refusal", c, code, errOut)
		}
	}

	if code, out, errOut := run("disable", "-database-url", dbURL, name); code != 0 || !strings.Contains(out, "disabled") {
		t.Fatalf("users disable = %d %q %q", code, out, errOut)
	}
	if u, _ := users.UserByName(ctx, name); u == nil || !u.Disabled {
		t.Errorf("after users disable: %+v", u)
	}
	if code, _, errOut := run("disable", "-database-url", dbURL, "nobody-"+name); code != 1 || !strings.Contains(errOut, "not found") {
		t.Errorf("disable nobody = %d %q", code, errOut)
	}
	if _, out, _ := run("list", "-database-url", dbURL); !strings.Contains(out, name) || strings.Contains(out, "argon2") {
		t.Errorf("users list:\n%s", out)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE object_type = 'user' AND object_id = $1 AND actor LIKE 'cli %'`, name).Scan(&n); err != nil || n != 2 {
		t.Errorf("audit rows of %s by the command line: %d (%v), want create and update", name, n, err)
	}
}
