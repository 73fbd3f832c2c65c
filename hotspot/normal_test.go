package hotspot

import (
	"math"
	"testing"
)

func TestPValueTwoSided(t *testing.T) {
	tests := []struct {
		name string
		z    float64
		want float64
	}{
		{"zero", 0, 1},
		{"90% critical value", 1.6448536269514722, 0.10},
		{"95% critical value", 1.959963984540054, 0.05},
		{"99% critical value", 2.5758293035489004, 0.01},
		{"negative is symmetric", -1.959963984540054, 0.05},
		{"half", 0.5, 0.6170750774519738},
		{"infinite", math.Inf(-1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertNear(t, "p", PValueTwoSided(tt.z), tt.want, 1e-12)
		})
	}

	// Far in the tail 1 − Φ(z) rounds to 0; erfc keeps relative accuracy.
	// 2(1 − Φ(10)) = 1.5239706048321e-23.
	t.Run("tail at z=10", func(t *testing.T) {
		got, want := PValueTwoSided(10), 1.5239706048321186e-23
		if math.Abs(got-want) > 1e-12*want {
			t.Fatalf("PValueTwoSided(10) = %g, want %g", got, want)
		}
	})
	t.Run("NaN", func(t *testing.T) {
		if got := PValueTwoSided(math.NaN()); !math.IsNaN(got) {
			t.Fatalf("PValueTwoSided(NaN) = %g, want NaN", got)
		}
	})
}
