package tiles

import (
	"fmt"
	"slices"

	"github.com/paulmach/orb"

	"citygrid/access"
	"citygrid/geo"
)

// VectorLayer describes one source layer for TileJSON.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution,omitempty"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

func statusFields() map[string]string {
	m := map[string]string{"cluster": "Boolean", "count": "Number", "h3": "String", "overdue_now": "Number: cases open and past their deadline now (clusters); Boolean (single cases)"}
	for _, st := range []string{"reported", "accepted", "dispatched", "in_progress", "resolved", "verified", "closed", "rejected"} {
		m[st] = "Number"
	}
	return m
}

func (s *Service) vectorLayers() map[string]VectorLayer {
	cases := statusFields()
	for k, v := range map[string]string{"id": "Number", "category": "String", "status": "String", "priority": "Number",
		"unit": "String", "grid": "String", "age_hours": "Number"} {
		cases[k] = v
	}
	return map[string]VectorLayer{
		LayerGrids: {ID: LayerGrids, MinZoom: 0, MaxZoom: DataMaxZoom,
			Description: "Grid polygons: district and streets to z11, communities z12–14, unit grids from z15 (level= to choose); open and overdue_now (open and past the deadline now) count the grid's whole subtree.",
			Fields:      map[string]string{"code": "String", "name": "String", "level": "String", "unit": "String", "open": "Number", "overdue_now": "Number"}},
		LayerCases: {ID: LayerCases, MinZoom: 0, MaxZoom: DataMaxZoom,
			Description: fmt.Sprintf("Cases: one point per case from z%d (id, category, status, priority, overdue_now, unit, grid, age_hours); below, one cluster per H3 cell (resolution zoom−4) at the cell's centre with count, counts per status and overdue_now.", s.opt.PointZoom),
			Fields:      cases},
		LayerHotspots: {ID: LayerHotspots, MinZoom: 0, MaxZoom: DataMaxZoom,
			Description: "H3 cells with cases or a Gi* class: count, density_km2, gi_z and gi_class (FDR-corrected) for the window; resolution 8 to z12, 9 to z14, then 10 (res= to fix).",
			Fields:      map[string]string{"h3": "String", "count": "Number", "density_km2": "Number", "gi_z": "Number", "gi_class": "String"}},
	}
}

// TileJSON describes layer with tilesURL as its tile template; bounds and
// centre are the scope's (nil: the district's): the union of its grids'.
// A scope none of whose grids exist gets the district's, which its outline
// shows anyway.
func (s *Service) TileJSON(layer, tilesURL string, scope *access.Scope) (*TileJSON, error) {
	if !slices.Contains(Layers, layer) {
		return nil, fmt.Errorf("%w %q", ErrUnknownLayer, layer)
	}
	l := s.grids.Locator()
	if l == nil {
		return nil, ErrNoGrids
	}
	var b orb.Bound
	found := false
	add := func(code string) {
		if gb, ok := l.Bound(code); ok {
			if found {
				b = b.Union(gb)
			} else {
				b, found = gb, true
			}
		}
	}
	if scope != nil {
		for _, code := range scope.Roots() {
			add(code)
		}
	}
	if !found {
		for _, g := range l.TopLevel() {
			add(g.Code)
		}
	}
	all := s.vectorLayers()
	var layers []VectorLayer
	if layer == LayerBattlemap {
		layers = []VectorLayer{all[LayerGrids], all[LayerCases], all[LayerHotspots]}
	} else {
		layers = []VectorLayer{all[layer]}
	}
	c := b.Center()
	return &TileJSON{
		TileJSON: "3.0.0", Name: "citygrid " + layer, Version: "1.0.0", Scheme: "xyz",
		Description: "citygrid battle map: " + layer,
		Tiles:       []string{tilesURL}, MinZoom: 0, MaxZoom: DataMaxZoom,
		Bounds:       [4]float64{b.Min[0], b.Min[1], b.Max[0], b.Max[1]},
		Center:       [3]float64{c[0], c[1], float64(centerZoom(b))},
		VectorLayers: layers,
	}, nil
}

// centerZoom is the zoom at which b fills about a 1024-pixel screen.
func centerZoom(b orb.Bound) int {
	for z := DataMaxZoom; z > 0; z-- {
		if len(geo.TilesCovering(b, z)) <= 16 {
			return z
		}
	}
	return 0
}
