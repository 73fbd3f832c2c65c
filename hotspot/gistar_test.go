package hotspot

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

// TestGiStarPySAL reproduces the esda G_Local doctest: six points, binary
// distance-band weights with threshold 15, star=True.
func TestGiStarPySAL(t *testing.T) {
	points := [][2]float64{{10, 10}, {20, 10}, {40, 10}, {15, 20}, {30, 20}, {30, 30}}
	y := []float64{2, 3, 3.2, 5, 8, 7}
	want := []float64{-1.39727626, -0.28917762, 0.65064964, -0.28917762, 1.23452088, 2.02424331}

	// A distance band includes points at exactly the threshold: (15,20) and
	// (30,20) are 15 apart and are neighbours.
	nb := make(Neighbours, len(points))
	for i, a := range points {
		for j, b := range points {
			if i != j && math.Hypot(a[0]-b[0], a[1]-b[1]) <= 15 {
				nb[i] = append(nb[i], int32(j))
			}
		}
	}
	z, err := GiStar(y, nb)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		assertNear(t, fmt.Sprintf("z[%d]", i), z[i], want[i], 1e-6)
	}
}

func TestGiStarEdges(t *testing.T) {
	ring := Neighbours{{1, 4}, {0, 2}, {1, 3}, {2, 4}, {3, 0}}
	tests := []struct {
		name string
		x    []float64
		nb   Neighbours
		want []float64
	}{
		{
			// S == 0: nothing stands out, every z is 0.
			name: "constant values",
			x:    []float64{4, 4, 4, 4, 4},
			nb:   ring,
			want: []float64{0, 0, 0, 0, 0},
		},
		{
			// Every cell's neighbourhood is all n cells: W = n makes the
			// denominator sqrt((n·n − n²)/(n−1)) zero.
			name: "neighbourhood is everything",
			x:    []float64{1, 2, 6},
			nb:   Neighbours{{1, 2}, {0, 2}, {0, 1}},
			want: []float64{0, 0, 0},
		},
		{
			// x = 1,0,0,0,0 with n = 5: X̄ = 0.2, S = sqrt(0.2 − 0.04) = 0.4.
			// Cell 0 (W = 3, sum 1): (1 − 0.6)/(0.4·sqrt((15 − 9)/4)) =
			// 0.4/(0.4·1.224745) = 0.8164966. Cells 1 and 4 also see cell 0,
			// cells 2 and 3 do not: (0 − 0.6)/0.4898979 = −1.2247449.
			name: "one spike on a ring of five",
			x:    []float64{1, 0, 0, 0, 0},
			nb:   ring,
			want: []float64{0.8164966, 0.8164966, -1.2247449, -1.2247449, 0.8164966},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			z, err := GiStar(tt.x, tt.nb)
			if err != nil {
				t.Fatal(err)
			}
			for i := range tt.want {
				assertNear(t, "z", z[i], tt.want[i], 1e-6)
			}
		})
	}
}

// Self-references and repeated neighbours are binary weights: they count once.
func TestGiStarIgnoresSelfAndRepeats(t *testing.T) {
	x := []float64{1, 5, 2, 8, 3, 3}
	clean := hexGrid(3, 2)
	messy := make(Neighbours, len(clean))
	for i, l := range clean {
		messy[i] = append(append([]int32{int32(i)}, l...), l...)
	}
	want, err := GiStar(x, clean)
	if err != nil {
		t.Fatal(err)
	}
	got, err := GiStar(x, messy)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("with self and repeats z = %v, want %v", got, want)
	}
}

func TestGiStarErrors(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		nb   Neighbours
		want error
	}{
		{"two cells", []float64{1, 2}, Neighbours{{1}, {0}}, ErrTooFewCells},
		{"no cells", nil, nil, ErrTooFewCells},
		{"fewer lists than cells", []float64{1, 2, 3}, Neighbours{{1}, {0}}, ErrLengthMismatch},
		{"index past the end", []float64{1, 2, 3}, Neighbours{{1}, {3}, {}}, ErrBadNeighbour},
		{"negative index", []float64{1, 2, 3}, Neighbours{{-1}, {}, {}}, ErrBadNeighbour},
		{"NaN value", []float64{1, math.NaN(), 3}, Neighbours{{}, {}, {}}, ErrNonFinite},
		{"infinite value", []float64{1, 2, math.Inf(1)}, Neighbours{{}, {}, {}}, ErrNonFinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := GiStar(tt.x, tt.nb); !errors.Is(err, tt.want) {
				t.Fatalf("GiStar error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestNeighboursValidate(t *testing.T) {
	tests := []struct {
		name string
		nb   Neighbours
		n    int
		want error
	}{
		{"valid, with self and repeats", Neighbours{{0, 1, 1}, {0}, {}}, 3, nil},
		{"one list short", Neighbours{{1}, {0}}, 3, ErrLengthMismatch},
		{"index equal to n", Neighbours{{1}, {3}, {}}, 3, ErrBadNeighbour},
		{"negative index", Neighbours{{-1}, {}, {}}, 3, ErrBadNeighbour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.nb.Validate(tt.n); !errors.Is(err, tt.want) {
				t.Fatalf("Validate(%d) = %v, want %v", tt.n, err, tt.want)
			}
		})
	}
}

func TestSmoothedMean(t *testing.T) {
	tests := []struct {
		name string
		x    []float64
		nb   Neighbours
		want []float64
	}{
		{
			// Cell 0 averages 1, 0, 0 (itself, 1, 4): 1/3; cell 2 sees only
			// zeros.
			name: "ring of five",
			x:    []float64{1, 0, 0, 0, 0},
			nb:   Neighbours{{1, 4}, {0, 2}, {1, 3}, {2, 4}, {3, 0}},
			want: []float64{1.0 / 3, 1.0 / 3, 0, 0, 1.0 / 3},
		},
		{
			// A cell without neighbours keeps its value; a repeated
			// neighbour and the cell itself count once: (2 + 4)/2.
			name: "isolated cell and repeats",
			x:    []float64{2, 4, 9},
			nb:   Neighbours{{1, 1, 0}, {0}, nil},
			want: []float64{3, 3, 9},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SmoothedMean(tt.x, tt.nb)
			for i := range tt.want {
				assertNear(t, "mean", got[i], tt.want[i], 1e-12)
			}
		})
	}
}

func TestSmoothedMeanPanicsOnBadNeighbours(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("SmoothedMean with an out-of-range neighbour did not panic")
		}
	}()
	SmoothedMean([]float64{1, 2}, Neighbours{{5}, {}})
}
