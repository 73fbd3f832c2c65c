package hotspot

import "fmt"

// Neighbours holds each cell's neighbourhood: Neighbours[i] lists the
// indices j of cell i's neighbours. Weights are binary (w_ij = 1 for a listed
// j, 0 otherwise), so a repeated index counts once. Listing i itself is
// allowed but not needed: the statistics here always include the cell itself
// exactly once (w_ii = 1). The relation need not be symmetric.
type Neighbours [][]int32

// Validate reports whether nb describes n cells: len(nb) == n and every index
// lies in [0, n). GiStar and EmergingCube validate for themselves;
// SmoothedMean, which has no error result, panics on input that fails this.
func (nb Neighbours) Validate(n int) error {
	_, err := compile(nb, n)
	return err
}

// csr is a validated neighbourhood in compressed-sparse-row form: the
// neighbours of cell i other than i itself, each once, are
// idx[off[i]:off[i+1]]. Building it once lets EmergingCube reuse it for every
// time step.
type csr struct {
	off []int
	idx []int32
}

func (w csr) degree(i int) int { return w.off[i+1] - w.off[i] }

// compile validates nb for n cells and drops self-references and duplicates.
// It runs in O(n + pairs): a per-cell stamp marks neighbours already seen.
func compile(nb Neighbours, n int) (csr, error) {
	if len(nb) != n {
		return csr{}, fmt.Errorf("%w: %d neighbour lists for %d cells", ErrLengthMismatch, len(nb), n)
	}
	pairs := 0
	for _, l := range nb {
		pairs += len(l)
	}
	w := csr{off: make([]int, n+1), idx: make([]int32, 0, pairs)}
	// seen[j] == i+1 means j is already in cell i's list; i+1 so that the
	// zero value means "never seen".
	seen := make([]int32, n)
	for i, l := range nb {
		stamp := int32(i + 1)
		seen[i] = stamp // excludes self
		for _, j := range l {
			if j < 0 || int(j) >= n {
				return csr{}, fmt.Errorf("%w: cell %d lists %d, n = %d", ErrBadNeighbour, i, j, n)
			}
			if seen[j] == stamp {
				continue
			}
			seen[j] = stamp
			w.idx = append(w.idx, j)
		}
		w.off[i+1] = len(w.idx)
	}
	return w, nil
}
