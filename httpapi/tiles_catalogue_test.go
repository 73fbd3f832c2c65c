package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestTileJSONAndCatalogue(t *testing.T) {
	a := newTileAPI(t)
	var tj struct {
		TileJSON     string     `json:"tilejson"`
		Tiles        []string   `json:"tiles"`
		MinZoom      int        `json:"minzoom"`
		MaxZoom      int        `json:"maxzoom"`
		Bounds       [4]float64 `json:"bounds"`
		Center       [3]float64 `json:"center"`
		VectorLayers []struct {
			ID     string            `json:"id"`
			Fields map[string]string `json:"fields"`
		} `json:"vector_layers"`
	}
	get := func(path string, header ...string) reply {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			if header[i] == "Host" {
				req.Host = header[i+1]
			} else {
				req.Header.Set(header[i], header[i+1])
			}
		}
		resp, err := a.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return reply{status: resp.StatusCode, header: resp.Header, body: b}
	}
	r := a.mustOK(get("/tiles/cases.json?status=reported", "Host", "maps.example.org:8443"))
	if !strings.HasPrefix(r.contentType(), "application/json") || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("TileJSON Content-Type %q, CORS %q", r.contentType(), r.header.Get("Access-Control-Allow-Origin"))
	}
	r.decode(t, &tj)
	if tj.TileJSON != "3.0.0" || tj.MinZoom != 0 || tj.MaxZoom < 16 {
		t.Errorf("tilejson %q, zooms %d–%d", tj.TileJSON, tj.MinZoom, tj.MaxZoom)
	}
	if want := "http://maps.example.org:8443/tiles/cases/{z}/{x}/{y}.mvt?status=reported"; len(tj.Tiles) != 1 || tj.Tiles[0] != want {
		t.Errorf("tiles %q, want [%s]", tj.Tiles, want)
	}
	const eps = 1e-9
	b := tj.Bounds
	if b[0] < x0-eps || b[1] < y0-eps || b[2] > x0+0.02+eps || b[3] > y0+0.02+eps || b[0] >= b[2] || b[1] >= b[3] {
		t.Errorf("bounds %v, want inside the district [%v %v %v %v]", b, x0, y0, x0+0.02, y0+0.02)
	}
	if c := tj.Center; c[0] < b[0] || c[0] > b[2] || c[1] < b[1] || c[1] > b[3] || c[2] < 10 {
		t.Errorf("center %v outside bounds %v or zoomed out too far", c, b)
	}
	if len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != "cases" {
		t.Fatalf("vector_layers %+v, want cases", tj.VectorLayers)
	}
	for _, f := range []string{"id", "status", "category", "priority", "overdue_now", "unit", "age_hours", "count", "h3"} {
		if tj.VectorLayers[0].Fields[f] == "" {
			t.Errorf("cases fields %v lack %q", tj.VectorLayers[0].Fields, f)
		}
	}

	r = a.mustOK(get("/tiles/battlemap.json", "X-Forwarded-Proto", "https", "Host", "tiles.example.org"))
	r.decode(t, &tj)
	if want := "https://tiles.example.org/tiles/battlemap/{z}/{x}/{y}.mvt"; tj.Tiles[0] != want {
		t.Errorf("battlemap tiles %q, want %s", tj.Tiles[0], want)
	}
	var ids []string
	for _, l := range tj.VectorLayers {
		ids = append(ids, l.ID)
	}
	if strings.Join(ids, ",") != "grids,cases,hotspots" {
		t.Errorf("battlemap vector_layers %v, want grids, cases, hotspots", ids)
	}

	var cat struct {
		Layers []struct {
			Name, TileJSON, Tiles string
			Params                []string
			LayerPointZoom        int        `json:"point_zoom"`
			ClusterRes            []int      `json:"cluster_res"`
			LevelsByZoom          [][]string `json:"levels_by_zoom"`
		}
		PointZoom int `json:"point_zoom"`
	}
	a.mustOK(get("/tiles", "Host", "maps.example.org")).decode(t, &cat)
	var names []string
	for _, l := range cat.Layers {
		names = append(names, l.Name)
		if l.TileJSON != "http://maps.example.org/tiles/"+l.Name+".json" || !strings.HasPrefix(l.Tiles, "http://maps.example.org/tiles/"+l.Name+"/") {
			t.Errorf("catalogue entry %+v", l)
		}
		if a.tile("/tiles/"+l.Name+".json").status != http.StatusOK {
			t.Errorf("the catalogue's %s TileJSON does not answer", l.Name)
		}
		switch l.Name {
		case "cases":
			// Clusters at resolution zoom - 4, from 0, below the point zoom.
			if l.LayerPointZoom != 14 || len(l.ClusterRes) != 14 || l.ClusterRes[13] != 9 || l.ClusterRes[10] != 6 || l.ClusterRes[2] != 0 {
				t.Errorf("cases: point zoom %d, cluster resolutions %v", l.LayerPointZoom, l.ClusterRes)
			}
		case "grids":
			if len(l.LevelsByZoom) != 23 || strings.Join(l.LevelsByZoom[11], ",") != "district,street" ||
				strings.Join(l.LevelsByZoom[12], ",") != "community" || strings.Join(l.LevelsByZoom[15], ",") != "grid" {
				t.Errorf("grids: levels by zoom %v", l.LevelsByZoom)
			}
		}
	}
	if strings.Join(names, ",") != "grids,cases,hotspots,battlemap" || cat.PointZoom != 14 {
		t.Errorf("catalogue layers %v point zoom %d, want the 4 layers and 14", names, cat.PointZoom)
	}
}
