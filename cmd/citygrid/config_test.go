package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"citygrid/grid"
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
			cfg, _, err := parseConfig("serve", tt.args, env, io.Discard, nil)
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

func TestWarnUnregisteredFallback(t *testing.T) {
	square := orb.Polygon{{{120, 36}, {120.01, 36}, {120.01, 36.01}, {120, 36.01}, {120, 36}}}
	l, err := grid.NewLocator([]*grid.Grid{{Code: "D", Level: grid.LevelDistrict, Geometry: square}}, []grid.Unit{{Code: "SB-JD", Name: "街道办"}}, grid.LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		fallback string
		warn     bool
	}{{"", false}, {"SB-JD", false}, {"SB-GHOST", true}} {
		var log bytes.Buffer
		warnUnregisteredFallback(l, tt.fallback, slog.New(slog.NewTextHandler(&log, nil)))
		if got := strings.Contains(log.String(), "the fallback unit is not registered"); got != tt.warn {
			t.Errorf("fallback %q: warned %v, want %v (%s)", tt.fallback, got, tt.warn, log.String())
		}
	}
}
