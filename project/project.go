package project

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"citygrid"
	"citygrid/geo"
	"citygrid/grid"
)

// Leader is who answers for a project's area (包片): a user of citygrid, or
// a person named with the unit they belong to.
type Leader struct {
	User string `json:"user,omitempty"` // a user's name, when the leader signs in here
	Name string `json:"name"`           // the person's name (for a user: its display name)
	Unit string `json:"unit,omitempty"` // a registered unit's code
}

// Key identifies the leader for the overlap rule: the user, or the name
// within the unit.
func (l Leader) Key() string {
	if l.User != "" {
		return "user:" + l.User
	}
	return "unit:" + l.Unit + "/" + l.Name
}

// Budget is a project's funding: an amount in fen (CNY cents) and where
// the money comes from.
type Budget struct {
	AmountFen int64
	Source    string
}

// Project is a pain-point project on the battle map.
type Project struct {
	ID   int64
	Name string
	Kind string
	// Area is the project's area; GridCodes are the grids it was given
	// as (nil when drawn as a polygon).
	Area      orb.MultiPolygon
	GridCodes []string
	// Grids are the codes of every grid whose interior the area's
	// interior meets, at any level: whose scope sees the project.
	Grids      []string
	Categories []string
	Leader     Leader
	Units      []string
	Plan       string
	Budget     Budget
	SpentFen   int64
	Deadline   time.Time // a civil date
	Milestones []Milestone
	Status     Status
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// CaseIDs are the cases linked by hand (escalated disputes among
	// them); cases in the area and categories are linked by themselves.
	CaseIDs []int64
}

// LateMilestones counts the milestones late at today (a civil date).
func (p *Project) LateMilestones(today time.Time) int {
	n := 0
	for _, m := range p.Milestones {
		if m.Late(today) {
			n++
		}
	}
	return n
}

// Late reports whether an active project has a late milestone at today.
func (p *Project) Late(today time.Time) bool {
	return p.Status.Active() && p.LateMilestones(today) > 0
}

// Limits on a project's fields.
const (
	MaxNameLen       = 200
	MaxKindLen       = 64
	MaxPlanLen       = 20000
	MaxUnits         = 50
	MaxCategories    = 50
	MaxAreaGrids     = 2000
	MaxAreaVertices  = 20000
	MaxBudgetFen     = int64(1e15) // ten trillion yuan: far beyond any district
	MaxSourceTextLen = 200
)

// Money is an amount in CNY as JSON writes it: a number with at most two
// decimals (fen), never negative.
type Money int64

// UnmarshalJSON reads a JSON number of yuan with at most two decimals.
func (m *Money) UnmarshalJSON(b []byte) error {
	var n json.Number
	if len(b) == 0 || b[0] == '"' {
		return fmt.Errorf("%s is not an amount (a number of yuan such as 1250000.50, not a string)", truncate(string(b), 40))
	}
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("%s is not an amount (a number of yuan such as 1250000.50)", truncate(string(b), 40))
	}
	s := n.String()
	if strings.ContainsAny(s, "eE") {
		f, err := n.Float64()
		if err != nil {
			return fmt.Errorf("%s is not an amount", truncate(s, 40))
		}
		s = fmt.Sprintf("%.2f", f)
		if g, _ := json.Number(s).Float64(); math.Abs(g-f) > 1e-9*math.Max(1, math.Abs(f)) {
			return fmt.Errorf("%s has more than two decimals (fen)", truncate(string(n), 40))
		}
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return fmt.Errorf("%s has more than two decimals (fen)", truncate(string(n), 40))
	}
	if len(whole) > 15 {
		return fmt.Errorf("%s is too large", truncate(string(n), 40))
	}
	frac += strings.Repeat("0", 2-len(frac))
	var v int64
	for _, c := range whole + frac {
		v = v*10 + int64(c-'0')
	}
	if neg && v != 0 {
		return fmt.Errorf("%s is negative", truncate(string(n), 40))
	}
	*m = Money(v)
	return nil
}

// MarshalJSON writes yuan with two decimals.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(FormatYuan(int64(m))), nil }

// FormatYuan writes fen as yuan with two decimals ("1250000.50").
func FormatYuan(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

// AreaInput is a project's area as given: a GeoJSON polygon or
// multipolygon, or a set of grid codes. Exactly one.
type AreaInput struct {
	Polygon orb.MultiPolygon
	Grids   []string
}

// Empty reports whether neither form was given.
func (a AreaInput) Empty() bool { return len(a.Polygon) == 0 && len(a.Grids) == 0 }

// ValidateArea checks an area: a valid polygon (closed rings, no self
// intersection, inside WGS84, within the vertex limit) or a set of known
// grid codes (l knows the grids; nil skips that check), never both or
// neither. Unknown grids are CodeUnprocessable, a malformed area
// CodeInvalid.
func ValidateArea(a AreaInput, l *grid.Locator) error {
	switch {
	case len(a.Polygon) > 0 && len(a.Grids) > 0:
		return fieldProblem(citygrid.CodeInvalid, "area", "give a polygon or grid codes, not both")
	case a.Empty():
		return fieldProblem(citygrid.CodeInvalid, "area", "empty: give a GeoJSON Polygon or MultiPolygon, or {\"grids\": [codes]}")
	case len(a.Grids) > 0:
		if len(a.Grids) > MaxAreaGrids {
			return fieldProblem(citygrid.CodeInvalid, "area.grids", "%d grids: at most %d", len(a.Grids), MaxAreaGrids)
		}
		seen := map[string]bool{}
		for _, code := range a.Grids {
			if err := grid.ValidateCode(code); err != nil {
				return fieldProblem(citygrid.CodeInvalid, "area.grids", "%v", err)
			}
			if seen[code] {
				return fieldProblem(citygrid.CodeInvalid, "area.grids", "grid %q is given twice", code)
			}
			seen[code] = true
			if l != nil {
				if _, ok := l.Grid(code); !ok {
					return fieldProblem(citygrid.CodeUnprocessable, "area.grids", "grid %q does not exist", code)
				}
			}
		}
		return nil
	}
	n := 0
	for _, poly := range a.Polygon {
		for _, r := range poly {
			n += len(r)
		}
	}
	if n > MaxAreaVertices {
		return fieldProblem(citygrid.CodeInvalid, "area", "%d vertices: at most %d", n, MaxAreaVertices)
	}
	for _, poly := range a.Polygon {
		for _, r := range poly {
			for _, pt := range r {
				if err := geo.ValidLonLat(pt); err != nil {
					return fieldProblem(citygrid.CodeInvalid, "area", "%v", err)
				}
			}
		}
	}
	if err := geo.ValidatePolygonal(a.Polygon); err != nil {
		return fieldProblem(citygrid.CodeInvalid, "area", "not a valid polygon: %v", err)
	}
	if planarArea(a.Polygon) == 0 {
		return fieldProblem(citygrid.CodeInvalid, "area", "the polygon has no area")
	}
	return nil
}

func planarArea(mp orb.MultiPolygon) float64 {
	a := 0.0
	for _, p := range mp {
		for i, r := range p {
			ra := 0.0
			for j := 0; j+1 < len(r); j++ {
				ra += r[j][0]*r[j+1][1] - r[j+1][0]*r[j][1]
			}
			if i == 0 {
				a += math.Abs(ra)
			} else {
				a -= math.Abs(ra)
			}
		}
	}
	return a / 2
}

// checkText checks a text field's length (in bytes) and encoding.
func checkText(field, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return fieldProblem(citygrid.CodeInvalid, field, "required")
	case !utf8.ValidString(s):
		return fieldProblem(citygrid.CodeInvalid, field, "not valid UTF-8")
	case len(s) > max:
		return fieldProblem(citygrid.CodeInvalid, field, "longer than %d bytes", max)
	}
	return nil
}

// fieldProblem is a client-safe error naming the field.
func fieldProblem(code citygrid.Code, field, format string, a ...any) *citygrid.Error {
	e := citygrid.Errorf(code, "%s: %s", field, fmt.Sprintf(format, a...))
	e.Details = map[string]any{"field": field}
	return e
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
