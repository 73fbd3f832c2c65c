package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
)

// ogcBBox reads an OGC bbox: four numbers (minLng,minLat,maxLng,maxLat) or
// six (with heights, which are ignored: every feature is flat), in CRS84
// only (bbox-crs is not offered). A box across the antimeridian
// (minLng > maxLng) is refused: the district lies far from it.
func ogcBBox(s string) (*orb.Bound, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	switch len(parts) {
	case 4:
	case 6:
		parts = []string{parts[0], parts[1], parts[3], parts[4]}
	default:
		return nil, invalid("bbox must be minLng,minLat,maxLng,maxLat (or six numbers with heights), got %d numbers", len(parts))
	}
	b, err := parseBBox(strings.Join(parts, ","))
	if err != nil {
		return nil, err
	}
	return &b, nil
}

// ogcDatetime reads an OGC datetime: an instant, or an interval start/end
// whose either end may be open (".." or empty). Both ends are included, as
// the standard has it; cases.Filter's To is exclusive, so it is set a
// microsecond (PostgreSQL's resolution) after the end. It returns nil,
// nil for an absent or fully open value.
func ogcDatetime(s string) (from, to *time.Time, err error) {
	if s == "" {
		return nil, nil, nil
	}
	one := func(v, name string) (*time.Time, error) {
		if v == "" || v == ".." {
			return nil, nil
		}
		t, err := parseTime(v, name)
		if err != nil {
			return nil, err
		}
		return &t, nil
	}
	start, end, interval := strings.Cut(s, "/")
	if !interval {
		if s == ".." {
			return nil, nil, invalid("datetime: \"..\" is an open end of an interval, not an instant")
		}
		t, err := one(s, "datetime")
		if err != nil {
			return nil, nil, err
		}
		after := t.Add(time.Microsecond)
		return t, &after, nil
	}
	if strings.Contains(end, "/") {
		return nil, nil, invalid("datetime: an interval is start/end, with one slash")
	}
	if from, err = one(start, "datetime start"); err != nil {
		return nil, nil, err
	}
	if to, err = one(end, "datetime end"); err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && to.Before(*from) {
		return nil, nil, invalid("datetime: the interval ends before it starts")
	}
	if to != nil {
		after := to.Add(time.Microsecond)
		to = &after
	}
	return from, to, nil
}

// ogcLimit reads limit: 1 to ogcMaxLimit, ogcDefaultLimit when absent.
func ogcLimit(q url.Values) (int, error) {
	v := q.Get("limit")
	if v == "" {
		return ogcDefaultLimit, nil
	}
	return parseInt(v, "limit", 1, ogcMaxLimit)
}

// ogcOffset reads offset, the position of a page of grids or hotspot cells
// (small collections kept in order by code).
func ogcOffset(q url.Values) (int, error) {
	v := q.Get("offset")
	if v == "" {
		return 0, nil
	}
	return parseInt(v, "offset", 0, 1<<30)
}

// ogcCursor is the position of a page of cases: after a case (the next
// page) or before one (the previous page), in the listing's order.
type ogcCursor struct {
	After  *cases.Cursor `json:"a,omitempty"`
	Before *cases.Cursor `json:"b,omitempty"`
}

func (c ogcCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeOGCCursor(s string) (ogcCursor, error) {
	var c ogcCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 512 || json.Unmarshal(b, &c) != nil || (c.After == nil) == (c.Before == nil) ||
		c.After != nil && c.After.ID <= 0 || c.Before != nil && c.Before.ID <= 0 {
		return ogcCursor{}, invalid("cursor is not one a next or prev link gave")
	}
	return c, nil
}

// withParam returns u's query with name set to value (removed when value
// is ""), for next and prev links that keep every other parameter.
func withParam(q url.Values, name, value string) string {
	out := url.Values{}
	for k, v := range q {
		out[k] = v
	}
	if value == "" {
		out.Del(name)
	} else {
		out.Set(name, value)
	}
	if len(out) == 0 {
		return ""
	}
	return "?" + out.Encode()
}

// itoa is strconv.Itoa, for links.
func itoa(n int) string { return strconv.Itoa(n) }
