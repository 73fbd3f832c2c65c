package hotspot

// Pattern is a location's Emerging Hot Spot Analysis category.
type Pattern string

// The seventeen categories of ArcGIS Emerging Hot Spot Analysis.
const (
	NewHot          Pattern = "new_hot"
	ConsecutiveHot  Pattern = "consecutive_hot"
	IntensifyingHot Pattern = "intensifying_hot"
	PersistentHot   Pattern = "persistent_hot"
	DiminishingHot  Pattern = "diminishing_hot"
	SporadicHot     Pattern = "sporadic_hot"
	OscillatingHot  Pattern = "oscillating_hot"
	HistoricalHot   Pattern = "historical_hot"

	NewCold          Pattern = "new_cold"
	ConsecutiveCold  Pattern = "consecutive_cold"
	IntensifyingCold Pattern = "intensifying_cold"
	PersistentCold   Pattern = "persistent_cold"
	DiminishingCold  Pattern = "diminishing_cold"
	SporadicCold     Pattern = "sporadic_cold"
	OscillatingCold  Pattern = "oscillating_cold"
	HistoricalCold   Pattern = "historical_cold"

	NoPattern Pattern = "no_pattern"
)

// EmergingAlpha is the per-step significance level of emerging hot spot
// analysis: a step is a hot (cold) spot when it is significant at 90%
// confidence or better, after the FDR correction when one is applied.
const EmergingAlpha = 0.10

// CellSeries is one location's Gi* results, one entry per time step, oldest
// first: Z the z-score and P the p-value that significance is judged on.
// For ArcGIS's FDR-corrected analysis P must hold the Benjamini-Hochberg
// adjusted p-values of each step (AdjustBH over that step's cells), as
// EmergingCube passes.
type CellSeries struct {
	Z, P []float64
}

// Emerging labels one location with its ArcGIS Emerging Hot Spot Analysis
// category. A step t is a significant hot spot when P[t] ≤ alpha and
// Z[t] > 0, a significant cold spot when P[t] ≤ alpha and Z[t] < 0 (alpha =
// EmergingAlpha = 0.10 is ArcGIS's "90% or better"); "the final step" is the
// last entry; "≥ 90% of steps" means hot steps × 10 ≥ steps × 9. trend is the
// Mann-Kendall test of the location's Z series and is significant when
// trend.Trend ≠ 0 (P < 0.05).
//
// The hot categories, as ArcGIS defines them:
//
//   - new: a significant hot spot in the final step that has never been a
//     significant hot spot before.
//   - consecutive: a single uninterrupted run of at least two significant hot
//     steps ending at the final step; never a significant hot spot before that
//     run, and fewer than 90% of all steps hot.
//   - intensifying: a significant hot spot in at least 90% of the steps,
//     including the final one, and the intensity of clustering (z) increasing
//     over time, significantly (trend.Trend = +1).
//   - persistent: a significant hot spot in at least 90% of the steps,
//     including the final one, with no significant trend in intensity
//     (trend.Trend = 0).
//   - diminishing: a significant hot spot in at least 90% of the steps,
//     including the final one, with the intensity decreasing significantly
//     (trend.Trend = −1).
//   - sporadic: a significant hot spot in the final step with a history of
//     being an on-again, off-again hot spot; fewer than 90% of the steps hot
//     and none significantly cold.
//   - oscillating: a significant hot spot in the final step that has also
//     been a significant cold spot in an earlier step; fewer than 90% of the
//     steps hot.
//   - historical: not hot in the final step, but a significant hot spot in at
//     least 90% of the steps.
//
// The cold categories mirror them with hot and cold exchanged; an
// intensifying cold spot's z falls over time (trend.Trend = −1) and a
// diminishing one's rises (+1). A location matching none is NoPattern.
//
// The definitions overlap (a location cold for nine steps and hot in the
// tenth is both new and oscillating; one hot for nine steps and cold in the
// tenth is both a historical hot spot and a new cold spot), so the first
// matching rule wins, in the order ArcGIS lists them: new, consecutive,
// intensifying, persistent, diminishing, sporadic, oscillating, historical,
// each tried for hot and then for cold before the next. Within one rank the
// hot and cold rules never both match, since the final step cannot be both.
//
// Two readings are deliberate. ArcGIS's wording of persistent omits
// "including the final step"; it is required here, as for intensifying and
// diminishing, so that a 90% hot spot that has gone quiet is historical
// rather than persistent. Sporadic is checked as stated plus "hot before the
// final run of hot steps", which is what on-again off-again means and what
// remains once new and consecutive are excluded.
//
// A series with no steps, or with len(P) ≠ len(Z), is NoPattern.
func Emerging(series CellSeries, alpha float64, trend MKResult) Pattern {
	n := len(series.Z)
	if n == 0 || len(series.P) != n {
		return NoPattern
	}
	hot := summarise(series, alpha, +1)
	cold := summarise(series, alpha, -1)
	hotRules := [...]Pattern{NewHot, ConsecutiveHot, IntensifyingHot, PersistentHot, DiminishingHot, SporadicHot, OscillatingHot, HistoricalHot}
	coldRules := [...]Pattern{NewCold, ConsecutiveCold, IntensifyingCold, PersistentCold, DiminishingCold, SporadicCold, OscillatingCold, HistoricalCold}
	for rank := range hotRules {
		if hot.matches(rank, n, cold.count, trend.Trend) {
			return hotRules[rank]
		}
		// A cold spot intensifies as its z falls, hence −trend.
		if cold.matches(rank, n, hot.count, -trend.Trend) {
			return coldRules[rank]
		}
	}
	return NoPattern
}

// spotHistory summarises one location's significant steps of one sign.
type spotHistory struct {
	count int  // significant steps of this sign
	final bool // the final step is one
	run   int  // length of the uninterrupted run ending at the final step
}

// summarise counts the steps significant with the sign of sign (+1 hot, −1
// cold).
func summarise(s CellSeries, alpha float64, sign float64) spotHistory {
	var h spotHistory
	for t, z := range s.Z {
		if s.P[t] <= alpha && z*sign > 0 {
			h.count++
			h.run++
		} else {
			h.run = 0
		}
	}
	h.final = h.run > 0
	return h
}

// matches applies rule rank (0 new … 7 historical) to this history, given the
// count of opposite-sign significant steps and the trend, signed so that +1
// means intensifying.
func (h spotHistory) matches(rank, n, opposite, trend int) bool {
	at90 := h.count*10 >= n*9
	switch rank {
	case 0: // new
		return h.final && h.count == 1
	case 1: // consecutive
		return h.final && h.run >= 2 && h.count == h.run && !at90
	case 2: // intensifying
		return h.final && at90 && trend > 0
	case 3: // persistent
		return h.final && at90 && trend == 0
	case 4: // diminishing
		return h.final && at90 && trend < 0
	case 5: // sporadic
		return h.final && !at90 && opposite == 0 && h.count > h.run
	case 6: // oscillating
		return h.final && !at90 && opposite > 0
	case 7: // historical
		return !h.final && at90
	}
	return false
}
