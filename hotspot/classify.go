package hotspot

import (
	"fmt"
	"math"
)

// Class is a cell's hot or cold spot bin, ArcGIS's Gi_Bin as a string.
type Class string

// The bins, from the most significant hot spot to the most significant cold
// spot. "hot_95" means significant at the 95% confidence level (p ≤ 0.05) but
// not at 99%.
const (
	Hot99          Class = "hot_99"
	Hot95          Class = "hot_95"
	Hot90          Class = "hot_90"
	NotSignificant Class = "none"
	Cold90         Class = "cold_90"
	Cold95         Class = "cold_95"
	Cold99         Class = "cold_99"
)

// Classify bins each cell by its z-score and two-sided p-value: significant
// at 99% when p ≤ 0.01, else at 95% when p ≤ 0.05, else at 90% when p ≤ 0.10,
// else NotSignificant; z > 0 makes a significant cell hot and z < 0 cold
// (z == 0 or NaN is NotSignificant whatever p says).
//
// With fdr, p is first replaced by its Benjamini-Hochberg adjusted value
// (AdjustBH over all cells), so a cell is significant at level α only if BH
// at false-discovery rate α rejects it; this is ArcGIS's False Discovery Rate
// correction applied at each of the three levels.
//
// z and p must have the same length; Classify panics otherwise, since they
// come from the same GiStar call.
func Classify(z, p []float64, fdr bool) []Class {
	if len(z) != len(p) {
		panic(fmt.Sprintf("hotspot.Classify: %v: %d z-scores, %d p-values", ErrLengthMismatch, len(z), len(p)))
	}
	if fdr {
		p = AdjustBH(p)
	}
	c := make([]Class, len(z))
	classify(z, p, c)
	return c
}

// classify bins z by the (already corrected, if wanted) p into c.
func classify(z, p []float64, c []Class) {
	for i := range z {
		c[i] = binOf(z[i], p[i])
	}
}

func binOf(z, p float64) Class {
	if z == 0 || math.IsNaN(z) {
		return NotSignificant
	}
	var hot, cold Class
	switch {
	case p <= 0.01:
		hot, cold = Hot99, Cold99
	case p <= 0.05:
		hot, cold = Hot95, Cold95
	case p <= 0.10:
		hot, cold = Hot90, Cold90
	default:
		return NotSignificant
	}
	if z > 0 {
		return hot
	}
	return cold
}
