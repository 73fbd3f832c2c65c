package hotspot

import (
	"errors"
	"math"
	"testing"
)

func TestMannKendall(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		want MKResult
	}{
		{
			// 1..10 with 10 moved to the front (9 discordant pairs) and the
			// pairs (2,1) and (4,3) swapped (one each): 11 discordant, 34
			// concordant of 45, S = 34 − 11 = 23. No ties: Var(S) =
			// 10·9·25/18 = 125. Z = (23 − 1)/√125 = 1.9677398, two-sided
			// p = 0.0491 (the textbook table value for n = 10, S = 23).
			name: "n=10, S=23",
			x:    []float64{10, 2, 1, 4, 3, 5, 6, 7, 8, 9},
			want: MKResult{S: 23, VarS: 125, Z: 1.9677398201998149, Tau: 23.0 / 45, P: 0.04909798160926563, Trend: 1},
		},
		{
			// x = 1, 3, 2, 2, 4, 4. Pairs from each i: 1 → +5; 3 → −2 (the
			// 2s) +2 (the 4s) = 0; first 2 → 0 (tie) +2; second 2 → +2;
			// first 4 → 0 (tie). S = 9. Two tie groups of size 2, each
			// 2·1·9 = 18: Var(S) = (6·5·17 − 36)/18 = 474/18 = 26.333333.
			// Z = 8/√26.333333 = 1.5589675, p = 0.1190041: no trend.
			// Tau = 9/15 = 0.6.
			name: "ties",
			x:    []float64{1, 3, 2, 2, 4, 4},
			want: MKResult{S: 9, VarS: 474.0 / 18, Z: 1.558967525907914, Tau: 0.6, P: 0.11900406643496333, Trend: 0},
		},
		{
			// Strictly decreasing, n = 8: all 28 pairs discordant, S = −28,
			// Var(S) = 8·7·21/18 = 65.333333, Z = (−28 + 1)/√65.333 =
			// −3.3403837, p = 0.00083663.
			name: "decreasing",
			x:    []float64{9, 8, 7, 6, 5, 4, 3, 2},
			want: MKResult{S: -28, VarS: 8 * 7 * 21 / 18.0, Z: -3.340383700311406, Tau: -1, P: 0.0008366271311193047, Trend: -1},
		},
		{
			// One tie group of all n: Var(S) = 0; S = 0 gives Z = 0, p = 1.
			name: "constant",
			x:    []float64{5, 5, 5, 5, 5},
			want: MKResult{S: 0, VarS: 0, Z: 0, Tau: 0, P: 1, Trend: 0},
		},
		{
			// Three steps, the test's minimum: S = 3, Var = 3·2·11/18 =
			// 3.6666667, Z = 2/1.9148542 = 1.0444659, p = 0.2962699, so
			// three steps can never show a significant trend.
			name: "shortest",
			x:    []float64{1, 2, 3},
			want: MKResult{S: 3, VarS: 66.0 / 18, Z: 1.044465935734187, Tau: 1, P: 0.2962698714842864, Trend: 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := MannKendall(tt.x)
			if err != nil {
				t.Fatal(err)
			}
			if got.S != tt.want.S || got.Trend != tt.want.Trend {
				t.Errorf("S, Trend = %d, %d, want %d, %d", got.S, got.Trend, tt.want.S, tt.want.Trend)
			}
			assertNear(t, "VarS", got.VarS, tt.want.VarS, 1e-9)
			assertNear(t, "Z", got.Z, tt.want.Z, 1e-6)
			assertNear(t, "Tau", got.Tau, tt.want.Tau, 1e-12)
			assertNear(t, "P", got.P, tt.want.P, 1e-6)
		})
	}
}

// The brief's published check: S = 23 at n = 10 is significant at 5%, just.
func TestMannKendallS23IsP0491(t *testing.T) {
	r, err := MannKendall([]float64{10, 2, 1, 4, 3, 5, 6, 7, 8, 9})
	if err != nil {
		t.Fatal(err)
	}
	assertNear(t, "p", r.P, 0.0491, 1e-4)
}

func TestMannKendallErrors(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		want error
	}{
		{"empty", nil, ErrTooShort},
		{"two steps", []float64{1, 2}, ErrTooShort},
		{"NaN", []float64{1, math.NaN(), 3}, ErrNonFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := MannKendall(tt.x); !errors.Is(err, tt.want) {
				t.Fatalf("MannKendall(%v) error = %v, want %v", tt.x, err, tt.want)
			}
		})
	}
}
