package hotspot

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

// twoClusters is a 10×10 hex patch over 12 steps with a background of 1 case
// per cell: cluster A (cell 22 and its ring) has 10 cases in every step,
// cluster B (cell 77 and its ring) only in the last.
func twoClusters() ([][]float64, Neighbours) {
	const w, steps = 10, 12
	nb := hexGrid(w, w)
	counts := make([][]float64, steps)
	for t := range counts {
		counts[t] = make([]float64, w*w)
		for i := range counts[t] {
			counts[t][i] = 1
		}
		clusters := []int{22}
		if t == steps-1 {
			clusters = append(clusters, 77)
		}
		for _, c := range clusters {
			counts[t][c] = 10
			for _, j := range nb[c] {
				counts[t][j] = 10
			}
		}
	}
	return counts, nb
}

func TestEmergingCubePatterns(t *testing.T) {
	counts, nb := twoClusters()
	for _, fdr := range []bool{false, true} {
		r, err := EmergingCube(counts, nb, fdr)
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name string
			cell int
			want Pattern
		}{
			// A's z is the same for 11 steps and lower in the last, when B
			// raises the mean: S = −11 with a tie group of 11, Var(S) =
			// (12·11·29 − 11·10·27)/18 = 47.67, Z = −10/6.90 = −1.45,
			// p = 0.15, so no trend: persistent, not diminishing.
			{"A's centre is persistent", 22, PersistentHot},
			{"B's centre is new", 77, NewHot},
			{"a far corner has no pattern", 9, NoPattern},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("fdr=%v/%s", fdr, tt.name), func(t *testing.T) {
				if got := r.Pattern[tt.cell]; got != tt.want {
					t.Fatalf("fdr=%v: Pattern[%d] = %s (trend %+v), want %s", fdr, tt.cell, got, r.Trend[tt.cell], tt.want)
				}
			})
		}
		if tr := r.Trend[22]; tr.S != -11 || !near(tr.VarS, 858.0/18, 1e-9) || tr.Trend != 0 {
			t.Errorf("fdr=%v: Trend[22] = %+v, want S = -11, VarS = 47.67, no trend", fdr, tr)
		}
	}
}

// The cube is exactly the exported pieces run step by step and cell by cell.
func TestEmergingCubeMatchesParts(t *testing.T) {
	counts, nb := twoClusters()
	// Add some texture so no two steps are alike.
	for t := range counts {
		for i := range counts[t] {
			counts[t][i] += float64((i*7 + t*3) % 5)
		}
	}
	for _, fdr := range []bool{false, true} {
		r, err := EmergingCube(counts, nb, fdr)
		if err != nil {
			t.Fatal(err)
		}
		steps, n := len(counts), len(counts[0])
		sig := make([][]float64, steps)
		for s := range steps {
			z, err := GiStar(counts[s], nb)
			if err != nil {
				t.Fatal(err)
			}
			p := make([]float64, n)
			for i := range z {
				p[i] = PValueTwoSided(z[i])
			}
			if !slices.Equal(r.Z[s], z) || !slices.Equal(r.P[s], p) {
				t.Fatalf("fdr=%v step %d: Z or P differ from GiStar/PValueTwoSided", fdr, s)
			}
			if want := Classify(z, p, fdr); !slices.Equal(r.Class[s], want) {
				t.Fatalf("fdr=%v step %d: Class = %v, want %v", fdr, s, r.Class[s], want)
			}
			sig[s] = p
			if fdr {
				sig[s] = AdjustBH(p)
			}
		}
		for i := range n {
			var cs CellSeries
			for s := range steps {
				cs.Z = append(cs.Z, r.Z[s][i])
				cs.P = append(cs.P, sig[s][i])
			}
			mk, err := MannKendall(cs.Z)
			if err != nil {
				t.Fatal(err)
			}
			if r.Trend[i] != mk {
				t.Fatalf("fdr=%v cell %d: Trend = %+v, want %+v", fdr, i, r.Trend[i], mk)
			}
			if want := Emerging(cs, EmergingAlpha, mk); r.Pattern[i] != want {
				t.Fatalf("fdr=%v cell %d: Pattern = %s, want %s", fdr, i, r.Pattern[i], want)
			}
		}
	}
}

func TestEmergingCubeErrors(t *testing.T) {
	nb3 := Neighbours{{1}, {0, 2}, {1}}
	tests := []struct {
		name   string
		counts [][]float64
		nb     Neighbours
		want   error
	}{
		{"two steps", [][]float64{{1, 2, 3}, {1, 2, 3}}, nb3, ErrTooShort},
		{"two cells", [][]float64{{1, 2}, {1, 2}, {1, 2}}, Neighbours{{1}, {0}}, ErrTooFewCells},
		{"ragged steps", [][]float64{{1, 2, 3}, {1, 2}, {1, 2, 3}}, nb3, ErrLengthMismatch},
		{"bad neighbour", [][]float64{{1, 2, 3}, {1, 2, 3}, {1, 2, 3}}, Neighbours{{1}, {7}, {}}, ErrBadNeighbour},
		{"NaN count", [][]float64{{1, 2, 3}, {1, math.NaN(), 3}, {1, 2, 3}}, nb3, ErrNonFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := EmergingCube(tt.counts, tt.nb, true); !errors.Is(err, tt.want) {
				t.Fatalf("EmergingCube error = %v, want %v", err, tt.want)
			}
		})
	}
}
