package analysis

import (
	"math"
	"time"

	"citygrid"
	"citygrid/caseindex"
	"citygrid/grid"
	"citygrid/hotspot"
)

// Bounds of an analysis.
const (
	MinRes        = 7
	MaxRes        = caseindex.MaxRes
	DefaultRes    = grid.CellRes
	MaxK          = 5
	MinStudyCells = 30
	// MaxSteps bounds the time steps of an emerging hot spot analysis.
	MaxSteps = 260
)

// GridSource is where the study area comes from: the current grid map.
type GridSource interface {
	Locator() *grid.Locator
}

// Service runs analyses over the case index. It is safe for concurrent use.
type Service struct {
	grids   GridSource
	cases   *caseindex.Index
	studies studyCache
}

// New returns a service counting cases from index over the grids' district.
func New(grids GridSource, index *caseindex.Index) *Service {
	return &Service{grids: grids, cases: index}
}

// Query asks for Gi* at one resolution, neighbourhood ring k, over the
// cases the filter selects; FDR applies the Benjamini-Hochberg correction
// before classifying. The filter's Restriction (the caller's scope) cuts
// the counts and, when it names grids, makes them the study area (see
// Study).
type Query struct {
	Res, K int
	Filter caseindex.Filter
	FDR    bool
}

// Hotspots is Gi* over the study area, aligned with Study.Cells.
type Hotspots struct {
	Study    *Study
	Counts   []float64
	Z, P     []float64
	Classes  []hotspot.Class
	Smoothed []float64 // mean count over each cell's k-ring
	Mean, SD float64   // of Counts (SD the population deviation, as Gi* uses)
}

// Hotspots counts the cases per cell of the study area and runs Gi*.
func (s *Service) Hotspots(q Query) (*Hotspots, error) {
	st, err := s.study(q.Res, q.K, q.Filter.Restriction.Grids)
	if err != nil {
		return nil, err
	}
	a := &Hotspots{Study: st, Counts: s.Count(st, q.Filter)}
	nb := st.nb[q.K]
	if a.Z, err = hotspot.GiStar(a.Counts, nb); err != nil {
		return nil, citygrid.Errorf(citygrid.CodeInvalid, "%v", err)
	}
	a.P = make([]float64, len(a.Z))
	for i, v := range a.Z {
		a.P[i] = hotspot.PValueTwoSided(v)
	}
	a.Classes = hotspot.Classify(a.Z, a.P, q.FDR)
	a.Smoothed = hotspot.SmoothedMean(a.Counts, nb)
	a.Mean, a.SD = meanSD(a.Counts)
	return a, nil
}

// Count counts the cases the filter selects per cell of the study: a
// comparison period is counted over the same cells.
func (s *Service) Count(st *Study, f caseindex.Filter) []float64 {
	counts := make([]float64, len(st.Cells))
	s.cases.Count(f, st.Res, st.pos, counts)
	return counts
}

// Emerging is an emerging hot spot analysis: the space-time cube.
type Emerging struct {
	Study  *Study
	Starts []time.Time
	Counts [][]float64 // by step, then cell
	Cube   hotspot.CubeResult
}

// Emerging counts the cases per cell and time step of the axis (step t
// covers [Starts[t], Starts[t+1]), the last up to End: q.Filter's From and
// To give way to the axis's) and runs Gi* per step, the Mann-Kendall trend
// per cell and the emerging categories.
func (s *Service) Emerging(q Query, axis Steps) (*Emerging, error) {
	st, err := s.study(q.Res, q.K, q.Filter.Restriction.Grids)
	if err != nil {
		return nil, err
	}
	if len(axis.Starts) == 0 {
		return nil, citygrid.Errorf(citygrid.CodeInvalid, "no time steps")
	}
	starts := axis.Starts
	e := &Emerging{Study: st, Starts: starts, Counts: make([][]float64, len(starts))}
	for i := range e.Counts {
		e.Counts[i] = make([]float64, len(st.Cells))
	}
	f := q.Filter
	f.From, f.To = starts[0], axis.End
	s.cases.CountSteps(f, q.Res, st.pos, starts, e.Counts)
	if e.Cube, err = hotspot.EmergingCube(e.Counts, st.nb[q.K], q.FDR); err != nil {
		return nil, citygrid.Errorf(citygrid.CodeInvalid, "%v", err)
	}
	return e, nil
}

func meanSD(x []float64) (float64, float64) {
	if len(x) == 0 {
		return 0, 0
	}
	m := Sum(x) / float64(len(x))
	v := 0.0
	for _, a := range x {
		v += (a - m) * (a - m)
	}
	return m, math.Sqrt(v / float64(len(x)))
}

// Sum adds up x.
func Sum(x []float64) float64 {
	t := 0.0
	for _, a := range x {
		t += a
	}
	return t
}

// Finite maps NaN and ±Inf to 0, which JSON cannot carry.
func Finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
