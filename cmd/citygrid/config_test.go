package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

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

func TestLimitSettings(t *testing.T) {
	type limits struct {
		rate        float64
		burst, bulk int
		idle        time.Duration
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    limits // as httpapi.Config takes them
		wantErr string
	}{
		{"defaults", nil, nil, limits{10, 20, 2, 30 * time.Second}, ""},
		{"from the environment", nil, map[string]string{"CITYGRID_RATE_LIMIT": "2.5", "CITYGRID_RATE_BURST": "5", "CITYGRID_BULK_CONCURRENCY": "1", "CITYGRID_BULK_IDLE_TIMEOUT": "1m"},
			limits{2.5, 5, 1, time.Minute}, ""},
		{"the flag wins", []string{"-rate-limit", "4", "-bulk-idle-timeout", "5s"}, map[string]string{"CITYGRID_RATE_LIMIT": "2.5", "CITYGRID_BULK_IDLE_TIMEOUT": "1m"},
			limits{4, 20, 2, 5 * time.Second}, ""},
		{"zero turns a limit off", []string{"-rate-limit", "0", "-bulk-concurrency", "0", "-bulk-idle-timeout", "0"}, nil, limits{-1, 20, -1, -1}, ""},
		{"a negative rate", []string{"-rate-limit", "-1"}, nil, limits{}, "rate-limit"},
		{"no burst", []string{"-rate-burst", "0"}, nil, limits{}, "rate-burst"},
		{"a negative idle timeout", []string{"-bulk-idle-timeout", "-1s"}, nil, limits{}, "bulk-idle-timeout"},
		{"not a number", nil, map[string]string{"CITYGRID_RATE_LIMIT": "fast"}, limits{}, "CITYGRID_RATE_LIMIT"},
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
			got := limits{offIfZero(cfg.RateLimit), cfg.RateBurst, offIfZero(cfg.BulkConcurrency), offIfZero(cfg.BulkIdleTimeout)}
			if got != tt.want {
				t.Errorf("limits = %+v, want %+v", got, tt.want)
			}
		})
	}
}
