package postgres_test

import (
	"context"
	"testing"
	"time"

	"citygrid"
	"citygrid/access"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// TestSignInOIDCUser: the first sign-in makes the user, later ones take the
// provider's grant; a disabled user comes back disabled; a password user
// of the name is never taken over; a scope of no grid is refused.
func TestSignInOIDCUser(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tx := dbtest.Tx(t)
	users := postgres.NewUserStore(tx)
	now := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
	u, err := users.SignInOIDCUser(ctx, access.User{Name: "oidc.a", DisplayName: "A", Role: access.RoleViewer}, now)
	if err != nil || u.Role != access.RoleViewer || u.PasswordHash != access.OIDCPasswordHash {
		t.Fatalf("first sign-in: %+v %v", u, err)
	}
	u, err = users.SignInOIDCUser(ctx, access.User{Name: "oidc.a", DisplayName: "A B", Role: access.RoleDispatcher}, now)
	if err != nil || u.Role != access.RoleDispatcher || u.DisplayName != "A B" {
		t.Fatalf("second sign-in: %+v %v", u, err)
	}
	if _, err := users.UpdateUser(ctx, "oidc.a", now, func(u *access.User) error { u.Disabled = true; return nil }); err != nil {
		t.Fatal(err)
	}
	u, err = users.SignInOIDCUser(ctx, access.User{Name: "oidc.a", Role: access.RoleViewer}, now)
	if err != nil || !u.Disabled || u.Role != access.RoleDispatcher {
		t.Errorf("a disabled user: %+v %v, want it disabled and unchanged", u, err)
	}
	if _, err := users.CreateUser(ctx, access.User{Name: "oidc.b", Role: access.RoleViewer, PasswordHash: "$argon2id$x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := users.SignInOIDCUser(ctx, access.User{Name: "oidc.b", Role: access.RoleAdmin}, now); !citygridCode(err, citygrid.CodeForbidden) {
		t.Errorf("a password user's name: %v, want forbidden", err)
	}
	if _, err := users.SignInOIDCUser(ctx, access.User{Name: "oidc.c", Role: access.RoleViewer, Scope: []string{"NOPE"}}, now); !citygridCode(err, citygrid.CodeUnprocessable) {
		t.Errorf("a scope of no grid: %v, want unprocessable", err)
	}
}
