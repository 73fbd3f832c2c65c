package hotspot

import (
	"math"
	"slices"
	"testing"
)

func TestBenjaminiHochberg(t *testing.T) {
	tests := []struct {
		name string
		p    []float64
		q    float64
		want []bool
	}{
		{
			// m = 5, q = 0.05. Sorted: 0.005, 0.01, 0.03, 0.04, 0.2 against
			// k·q/m = 0.01, 0.02, 0.03, 0.04, 0.05. 0.2 > 0.05 fails; 0.04 ≤
			// 0.04 holds, so k = 4 and the four smallest are significant
			// (0.03 ≤ 0.03 also holds at its own rank; both boundaries are ≤).
			name: "hand-checked five",
			p:    []float64{0.01, 0.04, 0.03, 0.005, 0.2},
			q:    0.05,
			want: []bool{true, true, true, true, false},
		},
		{
			// m = 10, q = 0.05, k·q/m = 0.005·k. 0.001 ≤ 0.005 and 0.008 ≤
			// 0.010 hold; every larger rank fails (0.039 > 0.015, 0.041 >
			// 0.020, 0.042 > 0.025, 0.060 > 0.030, 0.074 > 0.035, 0.205 >
			// 0.040, 0.212 > 0.045, 0.216 > 0.050), so k = 2, though 0.039 <
			// 0.05 would pass uncorrected.
			name: "step-up stops early",
			p:    []float64{0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216},
			q:    0.05,
			want: []bool{true, true, false, false, false, false, false, false, false, false},
		},
		{
			// Step-up, not step-down: p_(1) = 0.04 > 0.025 fails its own rank,
			// but p_(2) = 0.045 ≤ 2·0.05/2, so both are rejected.
			name: "a large k rescues a small rank",
			p:    []float64{0.045, 0.04},
			q:    0.05,
			want: []bool{true, true},
		},
		{
			// NaN does not count in m: m = 2, 0.04 ≤ 2·0.05/2.
			name: "NaN ignored",
			p:    []float64{0.01, math.NaN(), 0.04},
			q:    0.05,
			want: []bool{true, false, true},
		},
		{"none significant", []float64{0.5, 0.9}, 0.05, []bool{false, false}},
		{"empty", nil, 0.05, []bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BenjaminiHochberg(tt.p, tt.q); !slices.Equal(got, tt.want) {
				t.Fatalf("BenjaminiHochberg(%v, %g) = %v, want %v", tt.p, tt.q, got, tt.want)
			}
		})
	}
}

func TestAdjustBH(t *testing.T) {
	tests := []struct {
		name string
		p    []float64
		want []float64
	}{
		{
			// m·p_(k)/k for the sorted 0.005, 0.01, 0.03, 0.04, 0.2:
			// 0.025, 0.025, 0.05, 0.05, 0.2; running minimum from the top
			// changes nothing. Back in input order:
			name: "hand-checked five",
			p:    []float64{0.01, 0.04, 0.03, 0.005, 0.2},
			want: []float64{0.025, 0.05, 0.05, 0.025, 0.2},
		},
		{
			// m·p/k = 0.01, 0.04, 0.13, 0.1025, 0.084, 0.1, 0.105714…,
			// 0.25625, 0.235556…, 0.216; the minimum over ranks ≥ k makes it
			// monotone: rank 3 takes rank 5's 0.084, ranks 8–9 take 0.216.
			name: "monotone",
			p:    []float64{0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216},
			want: []float64{0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.74 / 7, 0.216, 0.216, 0.216},
		},
		{
			// Capped at 1: 2·0.7/1 = 1.4 becomes min(1, 1.4, 1) = 1.
			name: "capped at one",
			p:    []float64{1, 0.7},
			want: []float64{1, 1},
		},
		{
			name: "NaN ignored",
			p:    []float64{0.01, math.NaN(), 0.04},
			want: []float64{0.02, math.NaN(), 0.04},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AdjustBH(tt.p)
			if len(got) != len(tt.want) {
				t.Fatalf("AdjustBH(%v) = %v, want %v", tt.p, got, tt.want)
			}
			for i := range tt.want {
				if math.IsNaN(tt.want[i]) != math.IsNaN(got[i]) || !math.IsNaN(got[i]) && !near(got[i], tt.want[i], 1e-12) {
					t.Fatalf("AdjustBH(%v) = %v, want %v", tt.p, got, tt.want)
				}
			}
		})
	}
}

// BH significance at q is the same as an adjusted p-value ≤ q.
func TestAdjustBHAgreesWithBenjaminiHochberg(t *testing.T) {
	p := []float64{0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216, 0.0004, 0.09}
	for _, q := range []float64{0.01, 0.05, 0.1, 0.2, 0.3} {
		sig := BenjaminiHochberg(p, q)
		for i, a := range AdjustBH(p) {
			if (a <= q) != sig[i] {
				t.Errorf("q = %g, p = %g: adjusted %g but significant = %v", q, p[i], a, sig[i])
			}
		}
	}
}
