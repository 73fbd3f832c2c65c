package tiles_test

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"

	"citygrid/geo"
	"citygrid/project"
	"citygrid/tiles"
)

func TestProjectsLayer(t *testing.T) {
	box := func(x, y, d float64) orb.MultiPolygon {
		return orb.MultiPolygon{{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}}
	}
	list := []tiles.ProjectFeature{
		{ID: 2, Name: "违建清理", Status: project.StatusInProgress, Leader: "李红", Late: true, LateMilestones: 1, Area: box(120.3655, 36.089, 0.001)},
		{ID: 1, Name: "背街小巷", Status: project.StatusPlanned, Leader: "王建国", Area: box(120.3645, 36.088, 0.001)},
		{ID: 3, Name: "far away", Status: project.StatusDone, Leader: "x", Area: box(121, 37, 0.001)},
	}
	tile := geo.TilesAt(orb.Point{120.3655, 36.089}, 14, 4096, 0)[0]
	enc, capped := tiles.Projects(tile, list, 0)
	if capped {
		t.Fatal("capped without a cap")
	}
	layers, err := mvt.Unmarshal(enc.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 || layers[0].Name != tiles.LayerProjects || len(layers[0].Features) != 2 {
		t.Fatalf("layers %+v, want one projects layer of 2 features", layers)
	}
	for i, want := range []struct {
		id, status, leader string
		late               bool
	}{{"1", "planned", "王建国", false}, {"2", "in_progress", "李红", true}} {
		p := layers[0].Features[i].Properties
		if p.MustString("id") != want.id || p.MustString("status") != want.status || p.MustString("leader") != want.leader || p.MustBool("late") != want.late {
			t.Errorf("feature %d: %v, want %+v", i, p, want)
		}
		if _, ok := layers[0].Features[i].Geometry.(orb.Polygon); !ok {
			t.Errorf("feature %d is a %T, want a polygon", i, layers[0].Features[i].Geometry)
		}
	}
	if _, capped := tiles.Projects(tile, list, 1); !capped {
		t.Error("two features under a cap of one: not capped")
	}
	again, _ := tiles.Projects(tile, list, 0)
	if again.ETag != enc.ETag {
		t.Error("the same projects give another ETag")
	}
	if empty, _ := tiles.Projects(tile, nil, 0); len(empty.Raw) != 0 || empty.Features[tiles.LayerProjects] != 0 {
		t.Error("no projects, yet a tile")
	}
}
