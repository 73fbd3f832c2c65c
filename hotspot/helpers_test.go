package hotspot

import (
	"math"
	"testing"
)

// hexGrid returns the neighbours of a w×h patch of hexagons in axial
// coordinates (cell i = q + r·w): up to six each, i±1, i±w, i+1−w and
// i−1+w, so that with the cell itself a neighbourhood is a 7-cell ring
// like an H3 k-ring of 1. Cells on the edge have fewer.
func hexGrid(w, h int) Neighbours {
	nb := make(Neighbours, w*h)
	offsets := [6][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}, {1, -1}, {-1, 1}}
	for r := range h {
		for q := range w {
			i := q + r*w
			for _, o := range offsets {
				qq, rr := q+o[0], r+o[1]
				if qq >= 0 && qq < w && rr >= 0 && rr < h {
					nb[i] = append(nb[i], int32(qq+rr*w))
				}
			}
		}
	}
	return nb
}

func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol
}

func assertNear(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if !near(got, want, tol) {
		t.Errorf("%s = %.10g, want %.10g (±%g)", what, got, want, tol)
	}
}
