package httpapi

import (
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
	"citygrid/geo"
)

// allowParams rejects query parameters the endpoint does not know, so that a
// typo (bbbox=) is an error rather than a silently unfiltered answer; and
// repeated parameters, which would otherwise be half ignored.
func allowParams(q url.Values, known ...string) error {
	var unknown []string
	for k, v := range q {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		} else if len(v) > 1 {
			return invalid("query parameter %q is given %d times", k, len(v))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return invalid("unknown query parameter %q (allowed: %s)", unknown[0], strings.Join(known, ", "))
	}
	return nil
}

// parseFloat parses a finite number; strconv alone accepts "NaN" and "Inf".
func parseFloat(s, name string) (float64, error) {
	if s == "" {
		return 0, invalid("%s is missing", name)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, invalid("%s must be a finite number, got %q", name, truncate(s, 40))
	}
	return v, nil
}

// parseInt parses a query integer from min to max, naming the rule a value
// breaks: not a whole number, not a number, out of range.
func parseInt(s, name string, min, max int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		switch {
		case ferr == nil && f != math.Trunc(f):
			return 0, invalid("%s: %q is not a whole number: want an integer from %d to %d", name, truncate(s, 40), min, max)
		case ferr == nil:
			return 0, invalid("%s: %q: write the integer in plain digits, from %d to %d", name, truncate(s, 40), min, max)
		}
		return 0, invalid("%s: %q is not an integer: want %d to %d%s", name, truncate(s, 40), min, max, plusHint(s))
	}
	if n < min || n > max {
		return 0, invalid("%s: %d is out of range: want %d to %d", name, n, min, max)
	}
	return n, nil
}

// parseTime parses a query time (RFC 3339), naming the rule a near miss
// breaks (cases.ParseTime): no zone, an unescaped + in the offset.
func parseTime(s, name string) (time.Time, error) {
	t, err := cases.ParseTime(name, s)
	if err != nil {
		return t, invalid("%v", err)
	}
	return t, nil
}

// plusHint explains a space in a query value: an unescaped + arrives as one.
func plusHint(s string) string {
	if strings.Contains(s, " ") {
		return " (a + in a URL query stands for a space: write it as %2B)"
	}
	return ""
}

func parseBool(s, name string) (bool, error) {
	if s == "" {
		return false, nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return false, invalid("%s must be true or false, got %q", name, truncate(s, 40))
	}
	return v, nil
}

// parseBBox parses minLng,minLat,maxLng,maxLat in WGS84.
func parseBBox(s string) (orb.Bound, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return orb.Bound{}, invalid("bbox must be minLng,minLat,maxLng,maxLat")
	}
	var v [4]float64
	names := [4]string{"bbox minLng", "bbox minLat", "bbox maxLng", "bbox maxLat"}
	for i, p := range parts {
		f, err := parseFloat(strings.TrimSpace(p), names[i])
		if err != nil {
			return orb.Bound{}, err
		}
		v[i] = f
	}
	b := orb.Bound{Min: orb.Point{v[0], v[1]}, Max: orb.Point{v[2], v[3]}}
	for _, p := range []orb.Point{b.Min, b.Max} {
		if err := geo.ValidLonLat(p); err != nil {
			return orb.Bound{}, invalid("bbox: %v", err)
		}
	}
	if b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1] {
		return orb.Bound{}, invalid("bbox minimum must not exceed its maximum")
	}
	return b, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
