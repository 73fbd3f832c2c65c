package grid

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// GridInput is one grid as submitted for import, before the checks that need
// the stored grids (parent, units, containment).
type GridInput struct {
	Index           int // position of the feature in the submitted collection, from 0
	Code            string
	Name            string
	Level           Level
	Parent          string
	Unit            string
	UnitsByCategory map[string]string
	Geometry        orb.Geometry // orb.Polygon or orb.MultiPolygon
	// Invalid, when set, says why the feature could not even be read; such
	// an input is always rejected with this reason.
	Invalid string
}

// Rejection says why one submitted feature was not stored.
type Rejection struct {
	Index  int    `json:"index"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
}

// ImportOptions controls ImportGrids.
type ImportOptions struct {
	// Partial stores the valid features when others are rejected; by default
	// an import with any rejection stores nothing.
	Partial bool
	// Progress, when set, is told how far the import has got.
	Progress func(stage string, done, total int)
}

// ImportResult reports an import.
type ImportResult struct {
	// Committed is false when rejections stopped an all-or-nothing import.
	Committed bool        `json:"committed"`
	Inserted  int         `json:"inserted"`
	Updated   int         `json:"updated"`
	Rejected  []Rejection `json:"rejected"`
	Topology  *Topology   `json:"topology,omitempty"`
}

// MaxCodeLen bounds grid and unit codes; real codes are 6 to 20 characters.
const MaxCodeLen = 64

// ValidateCode checks a grid or unit code: non-empty, at most MaxCodeLen
// bytes of valid UTF-8 with no control characters or surrounding spaces.
// Any other string is a valid unit code; a grid to be stored must also pass
// ValidateGridCode.
func ValidateCode(code string) error {
	switch {
	case code == "":
		return fmt.Errorf("code is missing")
	case len(code) > MaxCodeLen:
		return fmt.Errorf("code is longer than %d bytes", MaxCodeLen)
	case !utf8.ValidString(code):
		return fmt.Errorf("code is not valid UTF-8")
	case strings.TrimSpace(code) != code:
		return fmt.Errorf("code %q has leading or trailing spaces", code)
	case strings.IndexFunc(code, unicode.IsControl) >= 0:
		return fmt.Errorf("code %q has control characters", code)
	}
	return nil
}

// ReservedCodes are the words the API uses as path segments beside grid
// codes (/v1/grids/import, /v1/grids/topology). A grid coded so could not
// be read back at /v1/grids/{code}, so none may be stored.
var ReservedCodes = []string{"import", "topology"}

// ValidateGridCode checks the code of a grid to be stored: ValidateCode,
// and none of ReservedCodes (compared exactly, as paths are).
func ValidateGridCode(code string) error {
	if err := ValidateCode(code); err != nil {
		return err
	}
	for _, r := range ReservedCodes {
		if code == r {
			return fmt.Errorf("code %q is reserved: /v1/grids/%s is an endpoint of the API, so a grid coded so could not be read back; choose another code", code, code)
		}
	}
	return nil
}

// ValidateInputs applies the checks that need nothing but the batch itself:
// codes, names, levels, the parent rule of each level, duplicate codes and
// geometry validity. It returns one Rejection per bad feature, in order.
// Every copy of a duplicated code is rejected: which one was meant is not
// ours to guess.
func ValidateInputs(in []GridInput) []Rejection {
	count := make(map[string]int, len(in))
	for _, g := range in {
		count[g.Code]++
	}
	var out []Rejection
	for _, g := range in {
		if err := validateInput(g, count); err != nil {
			out = append(out, Rejection{Index: g.Index, Code: g.Code, Reason: err.Error()})
		}
	}
	return out
}

func validateInput(g GridInput, count map[string]int) error {
	if g.Invalid != "" {
		return errors.New(g.Invalid)
	}
	if err := ValidateGridCode(g.Code); err != nil {
		return err
	}
	if count[g.Code] > 1 {
		return fmt.Errorf("duplicate code %q: it appears %d times in this import", g.Code, count[g.Code])
	}
	if strings.TrimSpace(g.Name) == "" {
		return fmt.Errorf("name is missing")
	}
	if !g.Level.Valid() {
		return fmt.Errorf("level is missing or unknown (want district, street, community or grid)")
	}
	if g.Level == LevelDistrict && g.Parent != "" {
		return fmt.Errorf("a district has no parent, got parent %q", g.Parent)
	}
	if g.Level != LevelDistrict {
		if g.Parent == "" {
			return fmt.Errorf("parent is missing: a %s needs a parent %s", g.Level, g.Level-1)
		}
		if g.Parent == g.Code {
			return fmt.Errorf("grid is its own parent")
		}
	}
	if g.Unit != "" {
		if err := ValidateCode(g.Unit); err != nil {
			return fmt.Errorf("unit: %w", err)
		}
	}
	for prefix, unit := range g.UnitsByCategory {
		if prefix == "" {
			return fmt.Errorf("units_by_category has an empty category prefix")
		}
		if err := ValidateCode(unit); err != nil {
			return fmt.Errorf("units_by_category[%q]: %w", prefix, err)
		}
	}
	if g.Geometry == nil {
		return fmt.Errorf("geometry is missing")
	}
	if err := geo.ValidatePolygonal(g.Geometry); err != nil {
		return err // already says "invalid geometry: …"
	}
	return nil
}

// ValidateUnit checks a responsible unit before it is stored.
func ValidateUnit(u Unit) error {
	if err := ValidateCode(u.Code); err != nil {
		return err
	}
	if strings.TrimSpace(u.Name) == "" {
		return fmt.Errorf("unit %q: name is missing", u.Code)
	}
	if len(u.Name) > 200 || len(u.Kind) > 100 {
		return fmt.Errorf("unit %q: name or kind too long", u.Code)
	}
	return nil
}
