package hotspot

import (
	"strings"
	"testing"
)

// series builds a location's history from one character per time step,
// oldest first: 'H' a hot spot at 99% (z = 3, p = 0.001), 'h' one at 90%
// only (z = 1.7, p = 0.09), 'C' a cold spot (z = −3, p = 0.001), '.' nothing
// significant (z = 0.4, p = 0.69).
func series(steps string) CellSeries {
	var s CellSeries
	for _, c := range steps {
		z, p := 0.4, 0.69
		switch c {
		case 'H':
			z, p = 3, 0.001
		case 'h':
			z, p = 1.7, 0.09
		case 'C':
			z, p = -3, 0.001
		}
		s.Z = append(s.Z, z)
		s.P = append(s.P, p)
	}
	return s
}

var (
	up   = MKResult{Trend: 1}
	flat = MKResult{Trend: 0}
	down = MKResult{Trend: -1}
)

func TestEmerging(t *testing.T) {
	tests := []struct {
		name  string
		steps string
		trend MKResult
		want  Pattern
	}{
		{"new: first hot step is the last", ".........H", flat, NewHot},
		{"new: 90% significance is enough", ".........h", flat, NewHot},
		{"consecutive: run of 3 at the end", ".......HHH", flat, ConsecutiveHot},
		{"consecutive: run of 2 is the minimum", "........HH", up, ConsecutiveHot},
		{"consecutive: 8 of 10 is under 90%", "..HHHHHHHH", up, ConsecutiveHot},
		{"intensifying: every step, z rising", "HHHHHHHHHH", up, IntensifyingHot},
		{"intensifying: 9 of 10 is 90%", ".HHHHHHHHH", up, IntensifyingHot},
		{"persistent: every step, no trend", "HHHHHHHHHH", flat, PersistentHot},
		{"persistent: one gap mid-series", "HHHH.HHHHH", flat, PersistentHot},
		{"diminishing: every step, z falling", "HHHHHHHHHH", down, DiminishingHot},
		{"sporadic: on and off, hot at the end", "H..H.H...H", flat, SporadicHot},
		{"sporadic: hot before the final run", "H......HHH", flat, SporadicHot},
		{"oscillating: cold in the past", "C..H.C...H", flat, OscillatingHot},
		{"historical: 90% hot, not at the end", "HHHHHHHHH.", flat, HistoricalHot},
		{"historical: trend does not matter", "HHHHHHHHH.", down, HistoricalHot},

		{"new cold", ".........C", flat, NewCold},
		{"consecutive cold", "......CCCC", flat, ConsecutiveCold},
		{"intensifying cold: z falling", "CCCCCCCCCC", down, IntensifyingCold},
		{"persistent cold", "CCCCC.CCCC", flat, PersistentCold},
		{"diminishing cold: z rising", "CCCCCCCCCC", up, DiminishingCold},
		{"sporadic cold", ".C..C...CC", flat, SporadicCold},
		{"oscillating cold", "H.C..H...C", flat, OscillatingCold},
		{"historical cold", "CCCCCCCCC.", flat, HistoricalCold},

		{"no pattern: never significant", "..........", flat, NoPattern},
		{"no pattern: hot, but not lately nor 90%", "..H...H...", flat, NoPattern},
		{"no pattern: a trend alone is not a hot spot", "..........", up, NoPattern},
		{"no pattern: empty", "", flat, NoPattern},

		// Precedence where ArcGIS's definitions overlap: the earlier rule in
		// its table wins.
		{"precedence: new over oscillating", "CCCCCCCCCH", flat, NewHot},
		{"precedence: consecutive over oscillating", "CC.C....HH", flat, ConsecutiveHot},
		{"precedence: new cold over historical hot", "HHHHHHHHHC", flat, NewCold},
		{"precedence: oscillating cold over historical hot", strings.Repeat("H", 27) + "CHC", flat, OscillatingCold},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Emerging(series(tt.steps), EmergingAlpha, tt.trend); got != tt.want {
				t.Fatalf("Emerging(%q, trend %+d) = %s, want %s", tt.steps, tt.trend.Trend, got, tt.want)
			}
		})
	}
}

func TestEmergingAlpha(t *testing.T) {
	tests := []struct {
		name  string
		steps string
		alpha float64
		want  Pattern
	}{
		// 'h' steps have p = 0.09: hot at 90%, not at 95%.
		{"p equal to alpha counts", ".........h", 0.09, NewHot},
		{"90%-only steps vanish at alpha 0.05", "hhhhhhhhhh", 0.05, NoPattern},
		{"99% steps survive alpha 0.05", "hhhhhhhhhH", 0.05, NewHot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Emerging(series(tt.steps), tt.alpha, flat); got != tt.want {
				t.Fatalf("Emerging(%q, alpha %g) = %s, want %s", tt.steps, tt.alpha, got, tt.want)
			}
		})
	}
}

func TestEmergingLengthMismatch(t *testing.T) {
	s := series("HHH")
	s.P = s.P[:2]
	if got := Emerging(s, EmergingAlpha, flat); got != NoPattern {
		t.Fatalf("Emerging with 3 z-scores and 2 p-values = %s, want %s", got, NoPattern)
	}
}
