package hotspot

import (
	"cmp"
	"math"
	"slices"
)

// BenjaminiHochberg reports, for each p-value, whether it is significant at
// false-discovery rate q under the Benjamini-Hochberg step-up procedure:
// sort the m p-values ascending, p_(1) ≤ … ≤ p_(m); find the largest k with
// p_(k) ≤ k·q/m; reject (mark significant) p_(1) … p_(k). If no k qualifies,
// nothing is significant. NaN p-values are never significant and do not
// count in m, as in R's p.adjust. The result is in the input order.
//
// A p-value is significant here exactly when its AdjustBH value is ≤ q.
func BenjaminiHochberg(p []float64, q float64) []bool {
	sig := make([]bool, len(p))
	s := sortedP(p)
	m := float64(len(s))
	k := 0
	for r := len(s); r >= 1; r-- {
		if s[r-1].p <= float64(r)*q/m {
			k = r
			break
		}
	}
	for _, e := range s[:k] {
		sig[e.i] = true
	}
	return sig
}

// AdjustBH returns the Benjamini-Hochberg adjusted p-values (q-values), as
// R's p.adjust(p, "BH"): for the sorted p-values,
//
//	p̃_(k) = min_{j ≥ k} min(1, m·p_(j)/j),
//
// so the adjusted values are monotone in p and capped at 1. NaN inputs stay
// NaN and do not count in m. The result is in the input order.
func AdjustBH(p []float64) []float64 {
	adj := make([]float64, len(p))
	for i, v := range p {
		if math.IsNaN(v) {
			adj[i] = math.NaN()
		}
	}
	s := sortedP(p)
	m := float64(len(s))
	run := 1.0
	for r := len(s); r >= 1; r-- {
		run = min(run, m*s[r-1].p/float64(r))
		adj[s[r-1].i] = run
	}
	return adj
}

type indexedP struct {
	p float64
	i int32
}

// sortedP returns the non-NaN p-values with their input indices, ascending.
// Pairs sort faster than an index slice compared through p.
func sortedP(p []float64) []indexedP {
	s := make([]indexedP, 0, len(p))
	for i, v := range p {
		if !math.IsNaN(v) {
			s = append(s, indexedP{v, int32(i)})
		}
	}
	slices.SortFunc(s, func(a, b indexedP) int { return cmp.Compare(a.p, b.p) })
	return s
}
