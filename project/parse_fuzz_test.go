package project

import (
	"encoding/json"
	"errors"
	"testing"

	"citygrid"
)

// FuzzMoney: an amount either parses to fen that write back to the same
// number of yuan, or is refused with an error; it never panics.
func FuzzMoney(f *testing.F) {
	for _, s := range []string{"0", "1250000.5", "12.34", "1e3", "-0", "-1", "12.345", `"12"`, "null", "1e400", "9999999999999999", "0.1e1", "[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var m Money
		if err := m.UnmarshalJSON([]byte(s)); err != nil {
			return
		}
		if m < 0 {
			t.Fatalf("%q: negative %d", s, m)
		}
		b, _ := m.MarshalJSON()
		var back Money
		if err := back.UnmarshalJSON(b); err != nil || back != m {
			t.Fatalf("%q → %d → %s → %d, %v", s, m, b, back, err)
		}
	})
}

// FuzzParseArea: an area is a polygon, grid codes or a client error; it
// never panics, and what parses validates or fails as a client error.
func FuzzParseArea(f *testing.F) {
	for _, s := range []string{
		`{"grids":["G1"]}`, `{"grids":[]}`, `{"grids":["G1"],"x":1}`, `{"type":"Point","coordinates":[1,2]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`, `{"type":"Polygon","coordinates":[]}`, `[]`, `"x"`, `{}`,
		`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,1],[1,0],[0,1],[0,0]]]]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid([]byte(s)) {
			return
		}
		a, err := ParseArea(json.RawMessage(s))
		var ce *citygrid.Error
		if err != nil {
			if !errors.As(err, &ce) {
				t.Fatalf("%q: %v is no client error", s, err)
			}
			return
		}
		if err := ValidateArea(a, nil); err != nil && !errors.As(err, &ce) {
			t.Fatalf("%q: %v is no client error", s, err)
		}
	})
}
