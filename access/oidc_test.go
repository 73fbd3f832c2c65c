package access

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestClaimMappingGrant(t *testing.T) {
	plain := ClaimMapping{RoleClaim: "roles", ScopeClaim: "scope", UnitClaim: "unit"}
	mapped := plain
	mapped.RoleMap = []RoleMapping{{"grid-analysts", RolePlanner}, {"grid-duty", RoleDispatcher}}
	tests := []struct {
		name      string
		m         ClaimMapping
		claims    map[string]any
		wantRole  Role
		wantScope []string
		wantUnit  string
		wantErr   string
	}{
		{"a role by name", plain, map[string]any{"roles": "viewer"}, RoleViewer, []string{}, "", ""},
		{"the most powerful of several names", plain, map[string]any{"roles": []any{"viewer", "staff", "dispatcher"}}, RoleDispatcher, []string{}, "", ""},
		{"scope and unit", plain, map[string]any{"roles": "handler", "scope": []any{"S1", "S2"}, "unit": "U1"}, RoleHandler, []string{"S1", "S2"}, "U1", ""},
		{"a scope as a string", plain, map[string]any{"roles": "planner", "scope": "S1"}, RolePlanner, []string{"S1"}, "", ""},
		{"mapped: the map's order wins", mapped, map[string]any{"roles": []any{"grid-duty", "grid-analysts"}}, RolePlanner, []string{}, "", ""},
		{"mapped: role names alone do not count", mapped, map[string]any{"roles": "admin"}, "", nil, "", "grants no citygrid role"},
		{"no role claim", plain, map[string]any{}, "", nil, "", "grants no citygrid role"},
		{"integration is never a person's", plain, map[string]any{"roles": "integration"}, "", nil, "", "grants no citygrid role"},
		{"a role claim of numbers", plain, map[string]any{"roles": []any{1.0}}, "", nil, "", "want strings"},
		{"two units", plain, map[string]any{"roles": "handler", "unit": []any{"U1", "U2"}}, "", nil, "", "holds 2 units"},
		{"an object for scope", plain, map[string]any{"roles": "viewer", "scope": map[string]any{}}, "", nil, "", "want a string or a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := tt.m.Grant("sub-1", tt.claims)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one about %q", err, tt.wantErr)
				}
				if strings.Contains(tt.wantErr, "no citygrid role") && !errors.Is(err, ErrNoRole) {
					t.Errorf("error %v is not ErrNoRole", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Name != "oidc.sub-1" || u.Role != tt.wantRole || !slices.Equal(u.Scope, tt.wantScope) || u.Unit != tt.wantUnit {
				t.Errorf("user %+v, want role %s scope %v unit %q", u, tt.wantRole, tt.wantScope, tt.wantUnit)
			}
		})
	}
}

func TestOIDCUserName(t *testing.T) {
	for sub, want := range map[string]string{
		"248289761001":          "oidc.248289761001",
		"li.wei@city.gov.cn":    "oidc.li.wei@city.gov.cn",
		"CN=Li Wei,OU=grid":     "oidc.", // not a user name as it is: hashed
		strings.Repeat("a", 60): "oidc.",
	} {
		got := OIDCUserName(sub)
		if !strings.HasPrefix(got, want) || (want == "oidc." && len(got) != 5+32) {
			t.Errorf("OIDCUserName(%q) = %q", sub, got)
		}
		if err := (&User{Name: got, Role: RoleViewer}).Validate(); err != nil {
			t.Errorf("OIDCUserName(%q) = %q: %v", sub, got, err)
		}
	}
}
