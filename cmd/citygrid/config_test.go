package main

import (
	"io"
	"strings"
	"testing"
)

func TestFallbackUnitSetting(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     string
		want    string
		wantErr string
	}{
		{"none by default", nil, "", "", ""},
		{"from the environment", nil, "SB-JD", "SB-JD", ""},
		{"the flag wins", []string{"-fallback-unit", "SB-CGJ"}, "SB-JD", "SB-CGJ", ""},
		{"a code with spaces around", []string{"-fallback-unit", " SB "}, "", "", "fallback-unit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := func(k string) string {
				if k == "CITYGRID_FALLBACK_UNIT" {
					return tt.env
				}
				return ""
			}
			cfg, _, err := parseConfig("serve", tt.args, env, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.FallbackUnit != tt.want || cfg.locatorOptions().FallbackUnit != tt.want {
				t.Errorf("fallback unit = %q (locator: %q), want %q", cfg.FallbackUnit, cfg.locatorOptions().FallbackUnit, tt.want)
			}
		})
	}
}
