package caseindex

import (
	"github.com/paulmach/orb"

	"citygrid/geo"
	"citygrid/grid"
)

// MaxRes is the finest resolution the case index keeps: hotspot
// analysis runs at resolutions 7 to 11.
const MaxRes = 11

// Cell is the cell of a case at resolution res (0 to MaxRes),
// the one rule hotspots, tile clusters and area queries share: at the
// stored resolution (BucketRes, 9) and finer, the cell that contains the
// point; coarser, the parent of the stored cell, as an h3= area query
// counts a coarse cell's children. (H3 cells do not nest exactly: the
// coarse cell containing a point is not always its fine cell's parent.)
func Cell(p orb.Point, res int) (geo.Cell, error) {
	if res < BucketRes {
		c, err := geo.CellAt(p, BucketRes)
		return c.Parent(res), err
	}
	return geo.CellAt(p, res)
}

// caseCells are a case's cells at resolutions 9, 10 and 11.
type caseCells [MaxRes - BucketRes + 1]geo.Cell

func cellsOf(p orb.Point) (caseCells, error) {
	var cc caseCells
	for i := range cc {
		c, err := geo.CellAt(p, BucketRes+i)
		if err != nil {
			return cc, err
		}
		cc[i] = c
	}
	return cc, nil
}

// at is Cell from the kept cells.
func (cc *caseCells) at(res int) geo.Cell {
	if res <= BucketRes {
		return cc[0].Parent(res)
	}
	return cc[res-BucketRes]
}

// BucketRes is the resolution of the index's spatial buckets: every case
// sits in the bucket of its cell at this resolution, so that a query over a
// box (a map tile) visits the few hundred buckets' bounds, then only the
// cases of buckets that meet the box.
const BucketRes = grid.CellRes
