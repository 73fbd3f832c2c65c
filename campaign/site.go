package campaign

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"citygrid/geo"
)

// Result is the outcome of a site's inspection.
type Result string

const (
	Pass Result = "pass"
	Fail Result = "fail" // a failure makes a case
)

// Site is one place of a campaign's inspection list.
type Site struct {
	ID       int64
	Ref      string // the list's own id of the site, unique in the campaign
	Name     string
	Category string // of the case a failure makes
	Location orb.Point
	// Row is where the site stood in the list it came from (see RowError).
	Row int

	Result      Result // "" until inspected
	InspectedAt *time.Time
	InspectedBy string
	Note        string
	CaseID      *int64
}

// RowError is a refused row of an inspection list: for CSV its line (the
// header is line 1), for GeoJSON the feature's index (from 0).
type RowError struct {
	Row   int    `json:"row"`
	Ref   string `json:"ref,omitempty"`
	Error string `json:"error"`
}

// MaxSites bounds one inspection list.
const MaxSites = 20000

// ErrFormat is a list that cannot be read at all (no rows to answer).
var ErrFormat = errors.New("inspection list")

// ParseSites reads an inspection list: a GeoJSON FeatureCollection of
// Points (properties ref, name, category) when csvBody is false, else CSV
// with a header naming ref, lng, lat and optionally name and category (in
// any order). Broken rows come back as RowErrors beside the good sites; an
// unreadable list is an error wrapping ErrFormat.
func ParseSites(r io.Reader, csvBody bool) ([]Site, []RowError, error) {
	if csvBody {
		return parseCSV(r)
	}
	return parseGeoJSON(r)
}

type siteFeature struct {
	Type     string          `json:"type"`
	Geometry json.RawMessage `json:"geometry"`
	// Properties are read loosely: a bad one is that row's error.
	Properties map[string]any `json:"properties"`
}

func parseGeoJSON(r io.Reader) ([]Site, []RowError, error) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.NewDecoder(r).Decode(&fc); err != nil {
		return nil, nil, fmt.Errorf("%w: not GeoJSON: %v", ErrFormat, err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, nil, fmt.Errorf("%w: want a GeoJSON FeatureCollection, got type %q", ErrFormat, fc.Type)
	}
	if len(fc.Features) > MaxSites {
		return nil, nil, fmt.Errorf("%w: %d sites, at most %d", ErrFormat, len(fc.Features), MaxSites)
	}
	var (
		sites []Site
		bad   []RowError
	)
	for i, raw := range fc.Features {
		var f siteFeature
		if err := json.Unmarshal(raw, &f); err != nil || f.Type != "Feature" {
			bad = append(bad, RowError{Row: i, Error: "not a GeoJSON Feature"})
			continue
		}
		s := Site{Row: i}
		s.Ref, _ = propString(f.Properties, "ref")
		s.Name, _ = propString(f.Properties, "name")
		s.Category, _ = propString(f.Properties, "category")
		var g struct {
			Type        string    `json:"type"`
			Coordinates []float64 `json:"coordinates"`
		}
		if err := json.Unmarshal(f.Geometry, &g); err != nil || g.Type != "Point" || len(g.Coordinates) != 2 {
			bad = append(bad, RowError{Row: i, Ref: s.Ref, Error: "geometry: want a Point [lng, lat]"})
			continue
		}
		s.Location = orb.Point{g.Coordinates[0], g.Coordinates[1]}
		if msg := checkSite(&s); msg != "" {
			bad = append(bad, RowError{Row: i, Ref: s.Ref, Error: msg})
			continue
		}
		sites = append(sites, s)
	}
	return sites, bad, nil
}

// propString reads a text property; a number is taken as its decimal text
// (lists often number their sites).
func propString(p map[string]any, key string) (string, bool) {
	switch v := p[key].(type) {
	case string:
		return strings.TrimSpace(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

func parseCSV(r io.Reader) ([]Site, []RowError, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, err
	}
	b = bytes.TrimPrefix(b, []byte("\ufeff")) // Excel's byte order mark
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: no CSV header: %v", ErrFormat, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, need := range []string{"ref", "lng", "lat"} {
		if _, ok := col[need]; !ok {
			return nil, nil, fmt.Errorf("%w: the CSV header has no %q column (want ref, lng, lat, and optionally name, category)", ErrFormat, need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var (
		sites []Site
		bad   []RowError
	)
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, RowError{Row: line, Error: "not CSV: " + pe.Err.Error()})
				return sites, bad, nil // the reader cannot go on past a broken quote
			}
			return nil, nil, err
		}
		if len(sites)+len(bad) >= MaxSites {
			return nil, nil, fmt.Errorf("%w: more than %d sites", ErrFormat, MaxSites)
		}
		s := Site{Row: line, Ref: get(rec, "ref"), Name: get(rec, "name"), Category: get(rec, "category")}
		lng, err1 := strconv.ParseFloat(get(rec, "lng"), 64)
		lat, err2 := strconv.ParseFloat(get(rec, "lat"), 64)
		if err1 != nil || err2 != nil {
			bad = append(bad, RowError{Row: line, Ref: s.Ref, Error: "lng, lat: want decimal degrees"})
			continue
		}
		s.Location = orb.Point{lng, lat}
		if msg := checkSite(&s); msg != "" {
			bad = append(bad, RowError{Row: line, Ref: s.Ref, Error: msg})
			continue
		}
		sites = append(sites, s)
	}
	return sites, bad, nil
}

// checkSite returns what is wrong with a parsed site, or "".
func checkSite(s *Site) string {
	switch {
	case s.Ref == "":
		return "ref: required"
	case len(s.Ref) > 64:
		return "ref: longer than 64 bytes"
	case len(s.Name) > 200:
		return "name: longer than 200 bytes"
	case s.Category != "" && !isCode(s.Category):
		return fmt.Sprintf("category: %q is not a category code", trunc(s.Category))
	case math.IsNaN(s.Location[0]) || math.IsNaN(s.Location[1]):
		return "lng, lat: not a number"
	}
	if err := geo.ValidLonLat(s.Location); err != nil {
		return "lng, lat: " + err.Error()
	}
	return ""
}

// Check judges parsed sites against the campaign: each must lie in its
// area (boundary included, as PostGIS ST_Covers) and have a category of
// the campaign (a missing one takes the campaign's only category, when it
// names exactly one full code known to known), and refs must be unique in
// the list. It returns the sites kept and the rows refused, in list order.
func (k *Campaign) Check(sites []Site, known func(code string) bool) ([]Site, []RowError) {
	var (
		ok   []Site
		bad  []RowError
		seen = map[string]int{}
	)
	for _, s := range sites {
		if s.Category == "" && len(k.Categories) == 1 && known(k.Categories[0]) {
			s.Category = k.Categories[0]
		}
		var msg string
		switch {
		case seen[s.Ref] != 0:
			msg = fmt.Sprintf("ref: %q is given twice (first at row %d)", trunc(s.Ref), seen[s.Ref]-1)
		case !geo.Covers(k.Area, s.Location):
			msg = fmt.Sprintf("location [%v, %v]: outside the campaign's area", s.Location[0], s.Location[1])
		case s.Category == "":
			msg = "category: required (the campaign names no single category to take)"
		case !known(s.Category):
			msg = fmt.Sprintf("category: no category %q in the category table", trunc(s.Category))
		case len(k.Categories) > 0 && !slices.ContainsFunc(k.Categories, func(p string) bool { return strings.HasPrefix(s.Category, p) }):
			msg = fmt.Sprintf("category: %q is not among the campaign's categories (%s)", trunc(s.Category), strings.Join(k.Categories, ", "))
		}
		if _, dup := seen[s.Ref]; !dup {
			seen[s.Ref] = s.Row + 1
		}
		if msg != "" {
			bad = append(bad, RowError{Row: s.Row, Ref: s.Ref, Error: msg})
			continue
		}
		ok = append(ok, s)
	}
	return ok, bad
}
