package hotspot

import "fmt"

// CubeResult is EmergingCube's output. Matrices are indexed [t][i], time step
// t (oldest first) by cell i; slices are indexed by cell.
type CubeResult struct {
	// Z is the Gi* z-score of each bin.
	Z [][]float64
	// P is the raw two-sided p-value of each Z. With fdr the significance
	// behind Class and Pattern is judged on AdjustBH(P[t]) instead.
	P [][]float64
	// Trend is the Mann-Kendall test of each cell's z-scores over time.
	Trend []MKResult
	// Pattern is each cell's emerging hot spot category.
	Pattern []Pattern
	// Class is each bin's hot or cold spot bin (Classify of Z[t], P[t]).
	Class [][]Class
}

// EmergingCube runs Emerging Hot Spot Analysis over a space-time cube of
// counts, counts[t][i] being the value (cases) of cell i in time step t,
// oldest first, every step over the same cells. For each step it computes
// GiStar with nb and the two-sided p-values, and bins them with Classify
// (with the Benjamini-Hochberg correction over that step's cells when fdr);
// then for each cell it runs MannKendall over the cell's z-scores and labels
// it with Emerging at EmergingAlpha (90%), judging significance on the
// corrected p-values when fdr.
//
// Unlike ArcGIS, whose Gi* here also counts the same cells in the preceding
// time steps (its neighbourhood time step), each step's Gi* is purely
// spatial: a step is compared only with itself.
//
// EmergingCube returns ErrTooShort with fewer than 3 steps (ArcGIS asks for
// at least 10; fewer makes the trend test weak, which the caller may
// enforce), ErrTooFewCells with fewer than 3 cells, ErrLengthMismatch for
// steps of different lengths, and GiStar's errors for a bad nb or value. It
// costs O(T·(n log n + pairs) + n·T²) for T steps, n cells and the given
// (cell, neighbour) pairs.
func EmergingCube(counts [][]float64, nb Neighbours, fdr bool) (CubeResult, error) {
	steps := len(counts)
	if steps < 3 {
		return CubeResult{}, fmt.Errorf("%w: %d time steps", ErrTooShort, steps)
	}
	n := len(counts[0])
	if n < 3 {
		return CubeResult{}, fmt.Errorf("%w: n = %d", ErrTooFewCells, n)
	}
	for t, row := range counts {
		if len(row) != n {
			return CubeResult{}, fmt.Errorf("%w: step %d has %d cells, step 0 has %d", ErrLengthMismatch, t, len(row), n)
		}
		if err := checkFinite(row); err != nil {
			return CubeResult{}, fmt.Errorf("step %d: %w", t, err)
		}
	}
	w, err := compile(nb, n)
	if err != nil {
		return CubeResult{}, err
	}

	r := CubeResult{
		Z:       matrix[float64](steps, n),
		P:       matrix[float64](steps, n),
		Trend:   make([]MKResult, n),
		Pattern: make([]Pattern, n),
		Class:   matrix[Class](steps, n),
	}
	// sig holds the p-values significance is judged on: P itself, or its
	// BH adjustment computed once per step and shared by Class and Pattern.
	sig := r.P
	if fdr {
		sig = make([][]float64, steps)
	}
	for t, row := range counts {
		giStar(w, row, r.Z[t])
		for i, z := range r.Z[t] {
			r.P[t][i] = PValueTwoSided(z)
		}
		if fdr {
			sig[t] = AdjustBH(r.P[t])
		}
		classify(r.Z[t], sig[t], r.Class[t])
	}

	zs := make([]float64, steps)
	ps := make([]float64, steps)
	scratch := make([]float64, steps)
	for i := range n {
		for t := range steps {
			zs[t], ps[t] = r.Z[t][i], sig[t][i]
		}
		r.Trend[i] = mannKendall(zs, scratch)
		r.Pattern[i] = Emerging(CellSeries{Z: zs, P: ps}, EmergingAlpha, r.Trend[i])
	}
	return r, nil
}

// matrix allocates a rows×cols matrix in one block, so a cube is a few
// allocations rather than one per step.
func matrix[T any](rows, cols int) [][]T {
	block := make([]T, rows*cols)
	m := make([][]T, rows)
	for k := range m {
		m[k] = block[k*cols : (k+1)*cols : (k+1)*cols]
	}
	return m
}
