package hotspot

import (
	"fmt"
	"math"
)

// GiStar computes the Getis-Ord Gi* z-score of every cell, with binary
// weights over each cell's neighbourhood including the cell itself, exactly
// as PySAL esda G_Local(star=True, transform='B') and ArcGIS Hot Spot
// Analysis (Getis-Ord Gi*) do. With n cells,
//
//	X̄ = Σx/n,  S = sqrt(Σx²/n − X̄²)   (population standard deviation),
//
// and for cell i with W_i = Σ_j w_ij, the number of cells in its
// neighbourhood counting itself,
//
//	z_i = (Σ_j w_ij x_j − X̄ W_i) / (S sqrt((n W_i − W_i²)/(n − 1))).
//
// z_i is a standard-normal deviate: positive where high values cluster
// (hot), negative where low values cluster (cold). If S == 0 (every x equal)
// or a cell's denominator is zero (its neighbourhood is all n cells), the
// cell gets z = 0: there is nothing to contrast it with.
//
// nb must hold one list per cell (see Neighbours); self-references and
// repeats are ignored. GiStar returns ErrTooFewCells when n < 3,
// ErrLengthMismatch or ErrBadNeighbour for a malformed nb, and ErrNonFinite
// for a NaN or infinite x. It runs in time linear in n plus the number of
// (cell, neighbour) pairs.
func GiStar(x []float64, nb Neighbours) ([]float64, error) {
	if len(x) < 3 {
		return nil, fmt.Errorf("%w: n = %d", ErrTooFewCells, len(x))
	}
	if err := checkFinite(x); err != nil {
		return nil, err
	}
	w, err := compile(nb, len(x))
	if err != nil {
		return nil, err
	}
	z := make([]float64, len(x))
	giStar(w, x, z)
	return z, nil
}

// giStar writes the Gi* z-scores of x into z; x is finite, len(x) ≥ 3 and w
// was compiled for len(x) cells.
func giStar(w csr, x, z []float64) {
	n := float64(len(x))
	mean := 0.0
	for _, v := range x {
		mean += v
	}
	mean /= n
	// Two passes: Σ(x − X̄)²/n equals Σx²/n − X̄² but does not cancel
	// catastrophically for large counts, and is exactly 0 for constant x.
	ss := 0.0
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	s := math.Sqrt(ss / n)
	if s == 0 {
		clear(z)
		return
	}
	for i := range x {
		// Σ_j w_ij x_j − X̄ W_i summed as Σ_j (x_j − X̄), for the same reason.
		num := x[i] - mean
		for _, j := range w.idx[w.off[i]:w.off[i+1]] {
			num += x[j] - mean
		}
		wi := float64(w.degree(i) + 1)
		den := s * math.Sqrt((n*wi-wi*wi)/(n-1))
		if den == 0 {
			z[i] = 0
			continue
		}
		z[i] = num / den
	}
}

// SmoothedMean returns, for every cell, the mean of x over its neighbourhood
// including itself: (x_i + Σ_{j∈nb[i], j≠i} x_j) / (1 + |nb[i] \ {i}|), each
// neighbour counted once. It is the `smoothed` map layer: the same
// neighbourhood Gi* sums over, in the units of x (cases per cell).
//
// SmoothedMean has no error result: it panics if nb fails
// nb.Validate(len(x)), which GiStar on the same input would have reported.
func SmoothedMean(x []float64, nb Neighbours) []float64 {
	w, err := compile(nb, len(x))
	if err != nil {
		panic("hotspot.SmoothedMean: " + err.Error())
	}
	out := make([]float64, len(x))
	for i := range x {
		sum := x[i]
		for _, j := range w.idx[w.off[i]:w.off[i+1]] {
			sum += x[j]
		}
		out[i] = sum / float64(w.degree(i)+1)
	}
	return out
}

func checkFinite(x []float64) error {
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: index %d is %v", ErrNonFinite, i, v)
		}
	}
	return nil
}
