package grid

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"citygrid/internal/strictjson"
)

// ErrNotFeatureCollection is returned by ParseFeatureCollection when the
// document is JSON but not a GeoJSON FeatureCollection.
var ErrNotFeatureCollection = errors.New("not a GeoJSON FeatureCollection")

// MaxImportFeatures bounds one import; a district has a few thousand grids.
const MaxImportFeatures = 200000

// ParseFeatureCollection reads a GeoJSON FeatureCollection of grids. A
// document that is not valid JSON, or not a FeatureCollection, is an error; a
// feature that is malformed on its own (wrong property types, an unreadable
// geometry) comes back with Invalid set, so that the rest can still be checked
// and the rejection names it. Unknown properties are ignored: grid files often
// carry columns of other systems.
func ParseFeatureCollection(r io.Reader) ([]GridInput, error) {
	fc, err := decodeFeatureCollection(json.NewDecoder(r))
	if err != nil {
		return nil, fmt.Errorf("parse GeoJSON: %w", err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("%w: type is %q", ErrNotFeatureCollection, fc.Type)
	}
	if len(fc.Features) > MaxImportFeatures {
		return nil, fmt.Errorf("too many features: %d, at most %d per import", len(fc.Features), MaxImportFeatures)
	}
	inputs := make([]GridInput, len(fc.Features))
	for i, raw := range fc.Features {
		in, err := parseFeature(i, raw)
		if err != nil {
			in.Invalid = err.Error()
		}
		inputs[i] = in
	}
	return inputs, nil
}

type featureCollection struct {
	Type     string
	Features []json.RawMessage
}

// decodeFeatureCollection reads the document's members one by one from the
// stream, so that a member given twice is refused (encoding/json would keep
// the last "features" without a word) without a second pass over what may
// be hundreds of megabytes. Features are checked one by one in parseFeature.
func decodeFeatureCollection(dec *json.Decoder) (featureCollection, error) {
	var fc featureCollection
	tok, err := dec.Token()
	if err != nil {
		return fc, err
	}
	switch {
	case tok == nil: // null: not a FeatureCollection, as an object without "type"
		return fc, endOfDocument(dec)
	case tok != json.Delim('{'):
		return fc, fmt.Errorf("the document is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fc, err
		}
		key, _ := tok.(string)
		if seen[key] {
			return fc, &strictjson.DuplicateKeyError{Key: key}
		}
		seen[key] = true
		switch key {
		case "type":
			err = dec.Decode(&fc.Type)
		case "features":
			err = dec.Decode(&fc.Features)
		default: // bbox, crs, name, …: read and ignored
			var raw json.RawMessage
			if err = dec.Decode(&raw); err == nil {
				var de *strictjson.DuplicateKeyError
				if errors.As(strictjson.CheckKeys(raw), &de) {
					de.Path = strings.TrimSuffix(key+"."+de.Path, ".")
					err = de
				}
			}
		}
		if err != nil {
			return fc, err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return fc, err
	}
	return fc, endOfDocument(dec)
}

// endOfDocument checks that nothing follows the document. More misses a
// stray closing brace or bracket; Token sees anything.
func endOfDocument(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the FeatureCollection")
	}
	return nil
}

// featureProps are the properties citygrid reads from a grid feature.
type featureProps struct {
	Code            *string           `json:"code"`
	Name            *string           `json:"name"`
	Level           *string           `json:"level"`
	Parent          *string           `json:"parent"`
	Unit            *string           `json:"unit"`
	UnitsByCategory map[string]string `json:"units_by_category"`
}

func parseFeature(i int, raw json.RawMessage) (GridInput, error) {
	in := GridInput{Index: i}
	var f struct {
		Type       string          `json:"type"`
		Properties json.RawMessage `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return in, fmt.Errorf("feature is not a JSON object (a GeoJSON Feature)")
	}
	if err := strictjson.CheckKeys(raw); err != nil {
		in.Code = codeOf(f.Properties) // to name the feature
		return in, err
	}
	if f.Type != "Feature" {
		return in, fmt.Errorf("type is %q, want \"Feature\"", f.Type)
	}
	var p featureProps
	if len(f.Properties) > 0 && !bytes.Equal(f.Properties, []byte("null")) {
		// Read the code on its own first, so that a bad other property still
		// lets the rejection name the feature.
		in.Code = codeOf(f.Properties)
		if err := json.Unmarshal(f.Properties, &p); err != nil {
			return in, fmt.Errorf("properties: %w", describeJSONError(err))
		}
	}
	in.Code = deref(p.Code)
	in.Name = deref(p.Name)
	in.Parent = deref(p.Parent)
	in.Unit = deref(p.Unit)
	in.UnitsByCategory = p.UnitsByCategory
	if p.Level != nil {
		l, err := ParseLevel(*p.Level)
		if err != nil {
			return in, err
		}
		in.Level = l
	}
	if len(f.Geometry) == 0 || bytes.Equal(f.Geometry, []byte("null")) {
		return in, fmt.Errorf("geometry is missing")
	}
	g, err := geojson.UnmarshalGeometry(f.Geometry)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return in, fmt.Errorf("geometry: not a GeoJSON geometry object")
	} else if err != nil {
		return in, fmt.Errorf("geometry: %w", err)
	}
	switch geom := g.Geometry().(type) {
	case orb.Polygon, orb.MultiPolygon:
		in.Geometry = geom
	default:
		return in, fmt.Errorf("geometry is a %s, want Polygon or MultiPolygon", g.Type)
	}
	return in, nil
}

// describeJSONError turns encoding/json's type errors into a sentence that
// names the property.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("must be an object, got %s", te.Value)
		}
		want := "a string"
		if strings.HasPrefix(te.Type.String(), "map") {
			want = "an object of strings"
		}
		return fmt.Errorf("%s must be %s, got %s", te.Field, want, te.Value)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("malformed JSON: %v", se)
	}
	return errors.New("malformed JSON")
}

// codeOf is the code property of a feature's properties, if it is a string.
func codeOf(props json.RawMessage) string {
	var codeOnly struct {
		Code any `json:"code"`
	}
	if json.Unmarshal(props, &codeOnly) == nil {
		if s, ok := codeOnly.Code.(string); ok {
			return s
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
