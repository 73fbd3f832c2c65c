package hotspot_test

import (
	"fmt"

	"citygrid/hotspot"
)

// Five cells in a row, each the neighbour of the next; the cases sit at one
// end.
func ExampleGiStar() {
	counts := []float64{9, 7, 1, 0, 0}
	nb := hotspot.Neighbours{{1}, {0, 2}, {1, 3}, {2, 4}, {3}}
	z, err := hotspot.GiStar(counts, nb)
	if err != nil {
		panic(err)
	}
	p := make([]float64, len(z))
	for i := range z {
		p[i] = hotspot.PValueTwoSided(z[i])
	}
	class := hotspot.Classify(z, p, false)
	for i := range z {
		fmt.Printf("cell %d: z = %+.3f, p = %.4f, %s\n", i, z[i], p[i], class[i])
	}
	// Output:
	// cell 0: z = +1.963, p = 0.0496, hot_95
	// cell 1: z = +1.451, p = 0.1468, none
	// cell 2: z = -0.469, p = 0.6387, none
	// cell 3: z = -1.963, p = 0.0496, cold_95
	// cell 4: z = -1.451, p = 0.1468, none
}

// A monthly count that drifts upward, with one tie (the two 4s): 41
// concordant pairs, 3 discordant, S = 38, Var(S) = (10·9·25 − 2·1·9)/18 = 124.
func ExampleMannKendall() {
	r, err := hotspot.MannKendall([]float64{3, 4, 4, 6, 5, 8, 9, 7, 10, 12})
	if err != nil {
		panic(err)
	}
	fmt.Printf("S = %d, Var(S) = %.2f, Z = %.4f, tau = %.4f, p = %.5f, trend %+d\n", r.S, r.VarS, r.Z, r.Tau, r.P, r.Trend)
	// Output:
	// S = 38, Var(S) = 124.00, Z = 3.3227, tau = 0.8444, p = 0.00089, trend +1
}

// Five tests at a false-discovery rate of 5%.
func ExampleBenjaminiHochberg() {
	p := []float64{0.01, 0.04, 0.03, 0.005, 0.2}
	fmt.Println(hotspot.BenjaminiHochberg(p, 0.05))
	fmt.Printf("%.3f\n", hotspot.AdjustBH(p))
	// Output:
	// [true true true true false]
	// [0.025 0.050 0.050 0.025 0.200]
}
