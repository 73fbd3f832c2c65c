package hotspot

import (
	"math/rand/v2"
	"testing"
)

// syntheticCounts returns steps×n Poisson-like case counts (a sum of
// Bernoulli trials, mean about 2), from a fixed seed so runs compare.
func syntheticCounts(steps, n int) [][]float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	counts := make([][]float64, steps)
	for t := range counts {
		counts[t] = make([]float64, n)
		for i := range counts[t] {
			c := 0
			for range 8 {
				if rng.IntN(4) == 0 {
					c++
				}
			}
			counts[t][i] = float64(c)
		}
	}
	return counts
}

// 50,000 cells, each with a 7-cell neighbourhood (itself and six hexagonal
// neighbours), as a resolution-9 H3 cover of a large district.
func BenchmarkGiStar(b *testing.B) {
	nb := hexGrid(250, 200)
	x := syntheticCounts(1, 250*200)[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := GiStar(x, nb); err != nil {
			b.Fatal(err)
		}
	}
}

// 5,000 cells × 52 weekly steps, with the FDR correction.
func BenchmarkEmergingCube(b *testing.B) {
	nb := hexGrid(100, 50)
	counts := syntheticCounts(52, 100*50)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EmergingCube(counts, nb, true); err != nil {
			b.Fatal(err)
		}
	}
}
