package tiles

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"github.com/paulmach/orb"

	"citygrid/geo"
	"citygrid/project"
)

// LayerProjects is the battle map's layer of pain-point projects: their
// areas, coloured by status on the page, late ones marked, with the
// leader's name. It is rendered on its own (Projects), not through the
// tile cache: a thousand projects draw faster than a cache is kept right
// across replicas, and the store answers for the current state.
const LayerProjects = "projects"

// ProjectFeature is a project as the projects layer draws it.
type ProjectFeature struct {
	ID             int64
	Name           string
	Kind           string
	Status         project.Status
	Leader         string
	Late           bool // active with a late milestone
	LateMilestones int
	Area           orb.MultiPolygon
}

// Projects renders the projects layer of tile t: every project whose area
// reaches the buffered tile, in id order, at most maxFeatures of them
// (capped then says so).
func Projects(t geo.Tile, list []ProjectFeature, maxFeatures int) (enc *Encoded, capped bool) {
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	lw := newLayer(LayerProjects, Extent)
	k := lw.fields("id", "name", "kind", "status", "leader", "late", "late_milestones")
	pr := geo.NewProjector(t, Extent)
	bound := t.Bound(Extent, Buffer)
	for _, p := range list {
		if !p.Area.Bound().Intersects(bound) {
			continue
		}
		rings := tilePolygon(p.Area, pr, -Buffer, Extent+Buffer)
		if rings == nil {
			continue
		}
		if maxFeatures > 0 && lw.count == maxFeatures {
			capped = true
			break
		}
		lw.tag(k[0], str(formatID(p.ID)))
		lw.tag(k[1], str(p.Name))
		lw.tag(k[2], str(p.Kind))
		lw.tag(k[3], str(string(p.Status)))
		lw.tag(k[4], str(p.Leader))
		lw.tag(k[5], boolean(p.Late))
		lw.tag(k[6], intValue(p.LateMilestones))
		lw.polygon(uint64(p.ID), rings)
	}
	enc = &Encoded{Features: map[string]int{LayerProjects: lw.count}}
	if lw.count > 0 {
		enc.Raw = lw.appendTo(nil)
		enc.Gzip = gzipped(enc.Raw)
	}
	sum := sha256.Sum256(enc.Raw)
	enc.ETag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if capped {
		enc.Capped = []string{LayerProjects}
	}
	return enc, capped
}

func formatID(id int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + id%10)
		id /= 10
		if id == 0 {
			break
		}
	}
	return string(b[i:])
}
