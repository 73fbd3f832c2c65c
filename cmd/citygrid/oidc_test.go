package main

import (
	"io"
	"strings"
	"testing"

	"citygrid/access"
)

// TestOIDCSettings: off without an issuer; flags and environment make the
// claim mapping; a half-made configuration is refused at start.
func TestOIDCSettings(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		off     bool
		wantMap []access.RoleMapping
		wantErr string
	}{
		{"off by default", nil, nil, true, nil, ""},
		{"from the environment", nil, map[string]string{"CITYGRID_OIDC_ISSUER": "https://idp.example/realms/city", "CITYGRID_OIDC_CLIENT_ID": "citygrid",
			"CITYGRID_OIDC_ROLE_MAP": "grid-duty=dispatcher, analysts=planner"}, false,
			[]access.RoleMapping{{Value: "grid-duty", Role: access.RoleDispatcher}, {Value: "analysts", Role: access.RolePlanner}}, ""},
		{"no client id", []string{"-oidc-issuer", "https://idp.example"}, nil, false, nil, "oidc-client-id"},
		{"not a URL", []string{"-oidc-issuer", "idp.example", "-oidc-client-id", "c"}, nil, false, nil, "oidc-issuer"},
		{"a bad role", []string{"-oidc-issuer", "https://idp.example", "-oidc-client-id", "c", "-oidc-role-map", "x=boss"}, nil, false, nil, "oidc-role-map"},
		{"integration is for systems", []string{"-oidc-issuer", "https://idp.example", "-oidc-client-id", "c", "-oidc-role-map", "x=integration"}, nil, false, nil, "oidc-role-map"},
		{"a bad redirect", []string{"-oidc-issuer", "https://idp.example", "-oidc-client-id", "c", "-oidc-redirect-url", "https://grid.example/cb"}, nil, false, nil, "oidc-redirect-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, _, err := parseConfig("serve", tt.args, func(k string) string { return tt.env[k] }, io.Discard, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			o, _ := cfg.oidcConfig()
			if (o == nil) != tt.off {
				t.Fatalf("oidc config %+v, want off %t", o, tt.off)
			}
			if o == nil {
				return
			}
			if o.Claims.RoleClaim != "citygrid_role" || o.Claims.ScopeClaim != "citygrid_scope" || o.Claims.UnitClaim != "citygrid_unit" {
				t.Errorf("claims %+v", o.Claims)
			}
			if len(o.Claims.RoleMap) != len(tt.wantMap) {
				t.Fatalf("role map %v, want %v", o.Claims.RoleMap, tt.wantMap)
			}
			for i := range tt.wantMap {
				if o.Claims.RoleMap[i] != tt.wantMap[i] {
					t.Errorf("role map %v, want %v", o.Claims.RoleMap, tt.wantMap)
				}
			}
		})
	}
}
