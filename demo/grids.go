package demo

import (
	"fmt"

	"github.com/paulmach/orb"

	"citygrid/grid"
)

// Piece is a generated polygon and the division code it belongs to (for a
// unit grid, its community's code).
type Piece struct {
	Code     string
	Geometry orb.Geometry // WGS84 (lon, lat)
	AreaM2   float64      // geodesic; set by GeneratePolygons, not read by Grids
}

// District-level responsible units. Codes are short and readable; real
// deployments use their own.
var districtUnits = []grid.Unit{
	{Code: "SB-CGJ", Name: "市北区城市管理局", Kind: "bureau"},            // city-management bureau
	{Code: "SB-ZFJ", Name: "市北区综合行政执法局", Kind: "law_enforcement"}, // comprehensive law enforcement
	{Code: "SB-FZJ", Name: "市北区发展和改革局", Kind: "bureau"},           // development bureau
}

// Units returns the responsible units of the demo district: the district
// bureaus, and for each street its office (街道办事处) and law-enforcement
// squad (执法中队), and for each community its residents' committee.
func Units(d Divisions) []grid.Unit {
	units := append([]grid.Unit(nil), districtUnits...)
	for _, st := range d.Streets {
		units = append(units,
			grid.Unit{Code: st.Code + "-JD", Name: st.Name + "办事处", Kind: "street_office"},
			grid.Unit{Code: st.Code + "-ZD", Name: st.Name + "执法中队", Kind: "law_enforcement_squad"})
		for _, c := range communitiesOf(st) {
			units = append(units, grid.Unit{Code: c.Code + "-JW", Name: c.Name + "居委会", Kind: "community_committee"})
		}
	}
	return units
}

// communitiesOf returns a street's communities, or one stand-in community
// named after the street when the division data lists none.
func communitiesOf(st Street) []Community {
	if len(st.Communities) > 0 {
		return st.Communities
	}
	return []Community{{Code: st.Code + "000", Name: st.Name + "社区"}}
}

// Grids assembles the demo hierarchy for import. The ownership rules show
// every branch of grid's rule: city-management components (category prefix
// "C") go to the city-management bureau and construction events ("E03") to
// law enforcement, district-wide; street-order events ("E05") to the
// street's squad; city-appearance events ("E01") to the community's
// committee; anything else to the street office.
func Grids(d Divisions, district orb.MultiPolygon, streets, communities, cells []Piece) ([]grid.GridInput, error) {
	var out []grid.GridInput
	add := func(g grid.GridInput) {
		g.Index = len(out)
		out = append(out, g)
	}
	var districtGeom orb.Geometry = district
	if len(district) == 1 {
		districtGeom = district[0]
	}
	add(grid.GridInput{
		Code: d.DistrictCode, Name: d.DistrictName, Level: grid.LevelDistrict,
		Unit:            "SB-CGJ",
		UnitsByCategory: map[string]string{"C": "SB-CGJ", "E03": "SB-ZFJ"},
		Geometry:        districtGeom,
	})
	if len(streets) != len(d.Streets) {
		return nil, fmt.Errorf("demo grids: %d street polygons for %d streets", len(streets), len(d.Streets))
	}
	names := map[string]string{}
	for i, st := range d.Streets {
		if streets[i].Code != st.Code {
			return nil, fmt.Errorf("demo grids: street polygon %d is %s, want %s", i, streets[i].Code, st.Code)
		}
		add(grid.GridInput{
			Code: st.Code, Name: st.Name, Level: grid.LevelStreet, Parent: d.DistrictCode,
			Unit:            st.Code + "-JD",
			UnitsByCategory: map[string]string{"E05": st.Code + "-ZD"},
			Geometry:        streets[i].Geometry,
		})
		for _, c := range communitiesOf(st) {
			names[c.Code] = c.Name
		}
	}
	parentOf := map[string]string{}
	for _, st := range d.Streets {
		for _, c := range communitiesOf(st) {
			parentOf[c.Code] = st.Code
		}
	}
	for _, c := range communities {
		street, ok := parentOf[c.Code]
		if !ok {
			return nil, fmt.Errorf("demo grids: community polygon for unknown community %s", c.Code)
		}
		add(grid.GridInput{
			Code: c.Code, Name: names[c.Code], Level: grid.LevelCommunity, Parent: street,
			UnitsByCategory: map[string]string{"E01": c.Code + "-JW"},
			Geometry:        c.Geometry,
		})
	}
	serial := map[string]int{}
	for _, cell := range cells {
		serial[cell.Code]++
		n := serial[cell.Code]
		add(grid.GridInput{
			// Unit-grid codes follow the national pattern: community code
			// plus a three-digit serial.
			Code:     fmt.Sprintf("%s%03d", cell.Code, n),
			Name:     fmt.Sprintf("%s第%d网格", names[cell.Code], n),
			Level:    grid.LevelGrid,
			Parent:   cell.Code,
			Geometry: cell.Geometry,
		})
	}
	return out, nil
}
