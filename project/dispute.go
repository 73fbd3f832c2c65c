package project

import (
	"slices"

	"github.com/paulmach/orb"

	"citygrid/grid"
)

// Why a case is disputed (its owner is not clear).
const (
	// ReasonNoUnitGrid: no unit-level grid (网格) covers the case's
	// location: it lies in a street or community outside every unit grid,
	// or outside every grid.
	ReasonNoUnitGrid = "no_unit_grid"
	// ReasonBorder: the location lies within the locator's border
	// tolerance (GPS error) of a grid of the same level whose owner, by
	// the ownership rule for the case's category, is another unit.
	ReasonBorder = "unit_border"
	// ReasonReturnedTwice: handlers returned the case (退单) twice since
	// it was last settled.
	ReasonReturnedTwice = "returned_twice"
)

// Place is what the grid map says of a case's location: the reasons of
// ReasonNoUnitGrid and ReasonBorder that hold, and the units that could
// own it (the locator's owner first, then those across the border).
type Place struct {
	Reasons []string
	Units   []string
}

// PlaceOf applies the ownership rule (grid.Locator: deepest covering grid,
// ties to the smallest code, owners by category prefix, default unit,
// fallback) to a case of category at p, and says whether its ownership is
// in doubt.
func PlaceOf(l *grid.Locator, p orb.Point, category string) (Place, error) {
	loc, err := l.Locate(p, category)
	if err != nil {
		return Place{}, err
	}
	var pl Place
	if loc.Owner != nil {
		pl.Units = append(pl.Units, loc.Owner.Unit.Code)
	}
	if loc.Grid == nil || loc.Grid.Level != grid.LevelGrid {
		pl.Reasons = append(pl.Reasons, ReasonNoUnitGrid)
	}
	if loc.Grid != nil {
		for _, alt := range loc.Alternatives {
			o, ok := l.OwnerOf(alt.Grid.Code, category)
			if !ok || o == nil || slices.Contains(pl.Units, o.Unit.Code) {
				continue
			}
			pl.Units = append(pl.Units, o.Unit.Code)
		}
		if len(pl.Units) > 1 {
			pl.Reasons = append(pl.Reasons, ReasonBorder)
		}
	}
	return pl, nil
}
