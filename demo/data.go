package demo

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

//go:embed data/shibei.geojson
var districtGeoJSON []byte

//go:embed data/divisions.json
var divisionsJSON []byte

// District returns the Shibei district boundary in WGS84 (lon, lat), at
// the source's precision of about 100 m.
func District() (orb.MultiPolygon, error) {
	fc, err := geojson.UnmarshalFeatureCollection(districtGeoJSON)
	if err != nil {
		return nil, fmt.Errorf("demo district: %w", err)
	}
	if len(fc.Features) != 1 {
		return nil, fmt.Errorf("demo district: %d features, want 1", len(fc.Features))
	}
	switch g := fc.Features[0].Geometry.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}, nil
	case orb.MultiPolygon:
		return g, nil
	}
	return nil, fmt.Errorf("demo district: geometry is not polygonal")
}

// Community is a residents' community (社区) with its 12-digit code.
type Community struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Street is a street (街道) with its 9-digit code and its communities.
type Street struct {
	Code        string      `json:"code"`
	Name        string      `json:"name"`
	Communities []Community `json:"communities"`
}

// Divisions are the district's administrative divisions.
type Divisions struct {
	DistrictCode string
	DistrictName string
	Streets      []Street
}

// LoadDivisions returns the district's streets and communities, by code.
func LoadDivisions() (Divisions, error) {
	var raw struct {
		District Community `json:"district"`
		Streets  []Street  `json:"streets"`
	}
	if err := json.Unmarshal(divisionsJSON, &raw); err != nil {
		return Divisions{}, fmt.Errorf("demo divisions: %w", err)
	}
	return Divisions{DistrictCode: raw.District.Code, DistrictName: raw.District.Name, Streets: raw.Streets}, nil
}
