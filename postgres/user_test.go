package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"citygrid"
	"citygrid/access"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

func TestUserStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := dbtest.Tx(t)
	users := postgres.NewUserStore(tx)
	u, err := users.CreateUser(ctx, access.User{Name: "li.wei", Role: access.RoleViewer, PasswordHash: "$argon2id$x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = users.CreateUser(ctx, access.User{Name: "li.wei", Role: access.RoleViewer, PasswordHash: "h"})
	if !citygridCode(err, citygrid.CodeConflict) {
		t.Errorf("a second li.wei: %v, want a conflict", err)
	}
	_, err = users.CreateUser(ctx, access.User{Name: "x", Role: access.RoleViewer, Scope: []string{"NOPE"}, PasswordHash: "h"})
	if !citygridCode(err, citygrid.CodeUnprocessable) {
		t.Errorf("a scope of no grid: %v, want unprocessable", err)
	}

	now := time.Now()
	_, hash := access.NewSessionToken()
	if err := users.CreateSession(ctx, u.ID, hash, "csrf", now, now.Add(time.Hour), time.Minute); err != nil {
		t.Fatal(err)
	}
	s, err := users.SessionByHash(ctx, hash, now.Add(time.Second), time.Minute)
	if err != nil || s == nil || s.User.Name != "li.wei" || s.CSRFToken != "csrf" {
		t.Fatalf("session: %+v, %v", s, err)
	}
	if s, _ := users.SessionByHash(ctx, hash, now.Add(2*time.Minute), time.Minute); s != nil {
		t.Error("a session idle for 2 minutes (idle limit 1) was found")
	}
	if s, _ := users.SessionByHash(ctx, hash, now.Add(30*time.Second), time.Minute); s == nil {
		t.Error("a session seen 29 s ago was not found")
	}

	if _, err := users.UpdateUser(ctx, "li.wei", now, func(u *access.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if s, _ := users.SessionByHash(ctx, hash, now.Add(31*time.Second), time.Minute); s != nil {
		t.Error("a disabled user's session outlived the disabling")
	}
	if _, err := users.UpdateUser(ctx, "nobody", now, func(*access.User) error { return nil }); !citygridCode(err, citygrid.CodeNotFound) {
		t.Errorf("update of nobody: %v", err)
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE object_type = 'user' AND object_id = 'li.wei'`).Scan(&n); err != nil || n != 2 {
		t.Errorf("audit rows of li.wei: %d (%v), want create and update", n, err)
	}
}

func citygridCode(err error, code citygrid.Code) bool {
	var e *citygrid.Error
	return errors.As(err, &e) && e.Code == code
}
