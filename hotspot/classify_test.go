package hotspot

import (
	"slices"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		z, p []float64
		fdr  bool
		want []Class
	}{
		{
			name: "levels and signs",
			z:    []float64{3, 2, 2, 1.8, 1, 0, -1.7, -2.1, -3},
			p:    []float64{0.005, 0.01, 0.03, 0.1, 0.3, 0.001, 0.09, 0.04, 0.001},
			want: []Class{Hot99, Hot99, Hot95, Hot90, NotSignificant, NotSignificant, Cold90, Cold95, Cold99},
		},
		{
			// The BH example: adjusted p = 0.025, 0.05, 0.05, 0.025, 0.2, so
			// nothing stays at 99% and 0.2 is not significant.
			name: "FDR",
			z:    []float64{3, 2, 2, 3, 1},
			p:    []float64{0.01, 0.04, 0.03, 0.005, 0.2},
			fdr:  true,
			want: []Class{Hot95, Hot95, Hot95, Hot95, NotSignificant},
		},
		{
			name: "same without FDR",
			z:    []float64{3, 2, 2, 3, 1},
			p:    []float64{0.01, 0.04, 0.03, 0.005, 0.2},
			want: []Class{Hot99, Hot95, Hot95, Hot99, NotSignificant},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.z, tt.p, tt.fdr); !slices.Equal(got, tt.want) {
				t.Fatalf("Classify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestClassifyPanicsOnMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Classify with 2 z-scores and 1 p-value did not panic")
		}
	}()
	Classify([]float64{1, 2}, []float64{0.5}, false)
}
