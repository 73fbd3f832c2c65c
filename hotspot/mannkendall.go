package hotspot

import (
	"fmt"
	"math"
	"slices"
)

// MKResult is the outcome of a Mann-Kendall trend test.
type MKResult struct {
	// S is the Mann-Kendall statistic, Σ_{i<j} sign(x_j − x_i).
	S int
	// VarS is the variance of S under no trend, corrected for ties.
	VarS float64
	// Z is the continuity-corrected standard-normal score of S.
	Z float64
	// Tau is Kendall's tau-a, S / (n(n−1)/2), in [−1, 1].
	Tau float64
	// P is the two-sided p-value of Z.
	P float64
	// Trend is +1 for a significant upward trend, −1 for a significant
	// downward trend, 0 otherwise, at the 5% level (P < 0.05).
	Trend int
}

// TrendAlpha is the significance level of MKResult.Trend.
const TrendAlpha = 0.05

// MannKendall runs the two-sided Mann-Kendall test for a monotone trend in
// x, taken in order (x[0] first):
//
//	S      = Σ_{i<j} sign(x_j − x_i)
//	Var(S) = [n(n−1)(2n+5) − Σ_t t(t−1)(2t+5)] / 18
//
// where the sum runs over the groups of exactly equal values in x, t being a
// group's size (the tie correction; without ties Var(S) = n(n−1)(2n+5)/18,
// 125 for n = 10). With the continuity correction
//
//	Z = (S − 1)/√Var(S) if S > 0,  (S + 1)/√Var(S) if S < 0,  0 if S = 0,
//
// Tau = S / (n(n−1)/2) (Kendall's tau-a), P = 2(1 − Φ(|Z|)) and Trend =
// sign(S) when P < 0.05, else 0. A constant series has S = 0, Var(S) = 0,
// Z = 0 and P = 1.
//
// MannKendall returns ErrTooShort when len(x) < 3 and ErrNonFinite for a NaN
// or infinite value. Three steps is the test's own minimum; ArcGIS's Emerging
// Hot Spot Analysis asks for at least 10 time steps before it trusts the
// trend, a policy left to the caller. It runs in O(n²).
func MannKendall(x []float64) (MKResult, error) {
	if len(x) < 3 {
		return MKResult{}, fmt.Errorf("%w: n = %d", ErrTooShort, len(x))
	}
	if err := checkFinite(x); err != nil {
		return MKResult{}, err
	}
	return mannKendall(x, make([]float64, len(x))), nil
}

// mannKendall tests finite x (len ≥ 3) using scratch, len(scratch) ≥ len(x),
// to find the ties, so that EmergingCube allocates nothing per cell.
func mannKendall(x, scratch []float64) MKResult {
	n := len(x)
	s := 0
	for i := 0; i < n-1; i++ {
		xi := x[i]
		for _, xj := range x[i+1:] {
			if xj > xi {
				s++
			} else if xj < xi {
				s--
			}
		}
	}
	sorted := scratch[:n]
	copy(sorted, x)
	slices.Sort(sorted)
	var ties int64
	for i := 0; i < n; {
		j := i + 1
		for j < n && sorted[j] == sorted[i] {
			j++
		}
		if t := int64(j - i); t > 1 {
			ties += t * (t - 1) * (2*t + 5)
		}
		i = j
	}
	nn := int64(n)
	r := MKResult{
		S:    s,
		VarS: float64(nn*(nn-1)*(2*nn+5)-ties) / 18,
		Tau:  float64(s) / float64(nn*(nn-1)/2),
		P:    1,
	}
	if r.VarS > 0 {
		switch {
		case s > 0:
			r.Z = float64(s-1) / math.Sqrt(r.VarS)
		case s < 0:
			r.Z = float64(s+1) / math.Sqrt(r.VarS)
		}
		r.P = PValueTwoSided(r.Z)
	}
	if r.P < TrendAlpha {
		switch {
		case s > 0:
			r.Trend = 1
		case s < 0:
			r.Trend = -1
		}
	}
	return r
}
