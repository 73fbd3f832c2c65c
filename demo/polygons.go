package demo

import (
	"context"
	"fmt"

	"github.com/paulmach/orb"

	"citygrid/postgres"
)

// Polygons holds a generated hierarchy, each level tiling its parent.
type Polygons struct {
	Streets     []Piece
	Communities []Piece
	// Cells are the unit grids: pieces of a square lattice cut by the
	// community boundaries, ordered by community, then north to south, then
	// west to east.
	Cells []Piece
}

// minPieceM2 drops lattice pieces too small to be anyone's grid: slivers
// where a square grazes a community boundary.
const minPieceM2 = 1.0

// GeneratePolygons draws streets, communities and unit grids that tile
// district with no gaps and no overlaps: streets and communities are
// Voronoi partitions around k-means seeds, unit grids are squares of cellM
// metres cut by the community boundaries. A street without communities gets
// one stand-in community (see communitiesOf). The result is deterministic
// for a seed. It uses PostGIS on db for the geometry but stores nothing.
func GeneratePolygons(ctx context.Context, db postgres.DBTX, district orb.MultiPolygon, d Divisions, cellM float64, seed int) (*Polygons, error) {
	p := postgres.NewPartitioner(db)
	metric, err := p.ToMetric(ctx, district)
	if err != nil {
		return nil, fmt.Errorf("demo grids: project district: %w", err)
	}
	out := &Polygons{}
	streetPolys, err := p.Voronoi(ctx, metric, len(d.Streets), seed)
	if err != nil {
		return nil, fmt.Errorf("demo grids: streets: %w", err)
	}
	for i, st := range d.Streets {
		out.Streets = append(out.Streets, Piece{Code: st.Code, Geometry: streetPolys[i]})
		communities := communitiesOf(st)
		communityPolys, err := p.Voronoi(ctx, streetPolys[i], len(communities), seed+i+1)
		if err != nil {
			return nil, fmt.Errorf("demo grids: communities of %s: %w", st.Code, err)
		}
		for j, c := range communities {
			out.Communities = append(out.Communities, Piece{Code: c.Code, Geometry: communityPolys[j]})
			cells, err := p.Lattice(ctx, communityPolys[j], cellM, minPieceM2)
			if err != nil {
				return nil, fmt.Errorf("demo grids: unit grids of %s: %w", c.Code, err)
			}
			for _, g := range cells {
				out.Cells = append(out.Cells, Piece{Code: c.Code, Geometry: g})
			}
		}
	}
	for _, level := range [][]Piece{out.Streets, out.Communities, out.Cells} {
		if err := toWGS84(ctx, p, level); err != nil {
			return nil, fmt.Errorf("demo grids: %w", err)
		}
	}
	return out, nil
}

// toWGS84 projects the pieces of one level back to WGS84 in place and sets
// their areas.
func toWGS84(ctx context.Context, p *postgres.Partitioner, pieces []Piece) error {
	gs := make([]orb.Geometry, len(pieces))
	for i, pc := range pieces {
		gs[i] = pc.Geometry
	}
	out, areas, err := p.ToWGS84(ctx, gs)
	if err != nil {
		return err
	}
	for i := range pieces {
		pieces[i].Geometry, pieces[i].AreaM2 = simplifyMulti(out[i]), areas[i]
	}
	return nil
}

// simplifyMulti unwraps a MultiPolygon of one polygon.
func simplifyMulti(g orb.Geometry) orb.Geometry {
	if mp, ok := g.(orb.MultiPolygon); ok && len(mp) == 1 {
		return mp[0]
	}
	return g
}
