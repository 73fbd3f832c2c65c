package hotspot

import "math"

// PValueTwoSided returns the two-sided p-value of a standard-normal z-score,
// 2·(1 − Φ(|z|)), computed as erfc(|z|/√2) so that it stays accurate far in
// the tail (1 − Φ would round to 0 beyond |z| ≈ 8.3). It is 1 at z = 0, 0 at
// ±Inf, and NaN for NaN.
func PValueTwoSided(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}
