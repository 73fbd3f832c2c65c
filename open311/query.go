package open311

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Limits of GET requests and service request updates.
const (
	// Window is the spec's longest and default date range.
	Window = 90 * 24 * time.Hour
	// MaxResults is the spec's cap on one reply, and the largest page.
	MaxResults = 1000
	// MaxRadiusM bounds a lat/long/radius search, as /v1/cases does.
	MaxRadiusM = 50000
)

// RequestsQuery is a parsed GET requests.
type RequestsQuery struct {
	// IDs, when given, override every other filter.
	IDs          []int64
	ServiceCodes []string
	// Start and End bound requested_datetime, both included: the spec's
	// window of at most 90 days, by default the last 90.
	Start, End time.Time
	Statuses   []string // open, closed
	// Near and RadiusM: the cases within RadiusM metres of Near, nearest
	// first (lat/long/radius).
	Near    *orb.Point
	RadiusM float64
	// UpdatedAfter and UpdatedBefore bound updated_datetime (v2.1 draft):
	// after excluded, before included.
	UpdatedAfter, UpdatedBefore *time.Time
	Page, PageSize              int
	Extensions                  bool
}

// params reads query parameters treating an empty one as absent.
type params url.Values

func (p params) get(k string) string { return url.Values(p).Get(k) }

// ParseRequestsQuery reads GET requests' parameters at now. Parameters of
// no meaning here (jurisdiction_id, and others clients add) are ignored,
// as Open311 servers do.
func ParseRequestsQuery(q url.Values, now time.Time) (*RequestsQuery, error) {
	p := params(q)
	rq := &RequestsQuery{Page: 1, PageSize: MaxResults}
	// extensions shapes the reply rather than filtering it: it holds with
	// service_request_id too.
	if v := p.get("extensions"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalid("extensions: want true or false, got %q", truncate(v, 40))
		}
		rq.Extensions = b
	}
	if v := p.get("service_request_id"); v != "" {
		ids, err := parseIDs(v)
		if err != nil {
			return nil, err
		}
		rq.IDs = ids
		return rq, nil // the spec: it overrides all other arguments
	}
	if v := p.get("service_code"); v != "" {
		for _, c := range strings.Split(v, ",") {
			c = strings.TrimSpace(c)
			if c == "" || len(c) > 32 || strings.IndexFunc(c, func(r rune) bool {
				return !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
			}) >= 0 {
				return nil, invalid("service_code %q is not a service code (GET services lists them)", truncate(c, 40))
			}
			rq.ServiceCodes = append(rq.ServiceCodes, c)
		}
	}
	var err error
	if rq.Start, rq.End, err = parseWindow(p, now); err != nil {
		return nil, err
	}
	if v := p.get("status"); v != "" {
		for _, s := range strings.Split(v, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s != StatusOpen && s != StatusClosed {
				return nil, invalid("status %q: want open or closed (a comma-separated list)", truncate(s, 40))
			}
			rq.Statuses = append(rq.Statuses, s)
		}
	}
	lat, long, radius := p.get("lat"), p.get("long"), p.get("radius")
	if lat != "" || long != "" || radius != "" {
		if lat == "" || long == "" || radius == "" {
			return nil, invalid("lat, long and radius (metres) go together: send all three")
		}
		la, err := parseCoord("lat", lat, 90)
		if err != nil {
			return nil, err
		}
		lo, err := parseCoord("long", long, 180)
		if err != nil {
			return nil, err
		}
		r, err := strconv.ParseFloat(radius, 64)
		if err != nil || !(r > 0 && r <= MaxRadiusM) {
			return nil, invalid("radius %q: want metres, more than 0 and at most %d", truncate(radius, 40), MaxRadiusM)
		}
		rq.Near, rq.RadiusM = &orb.Point{lo, la}, r
	}
	for name, dst := range map[string]**time.Time{"updated_after": &rq.UpdatedAfter, "updated_before": &rq.UpdatedBefore} {
		if v := p.get(name); v != "" {
			t, err := ParseTime(name, v)
			if err != nil {
				return nil, err
			}
			*dst = &t
		}
	}
	if rq.UpdatedAfter != nil && rq.UpdatedBefore != nil && !rq.UpdatedAfter.Before(*rq.UpdatedBefore) {
		return nil, invalid("updated_after must be before updated_before")
	}
	if v := p.get("page"); v != "" {
		if rq.Page, err = parseInt("page", v, 1, 1_000_000); err != nil {
			return nil, err
		}
	}
	if v := p.get("page_size"); v != "" {
		if rq.PageSize, err = parseInt("page_size", v, 1, MaxResults); err != nil {
			return nil, err
		}
	}
	return rq, nil
}

// parseWindow reads start_date and end_date: at most Window apart; one
// alone reaches Window from it; neither is the last Window up to now.
func parseWindow(p params, now time.Time) (start, end time.Time, err error) {
	var s, e *time.Time
	for name, dst := range map[string]**time.Time{"start_date": &s, "end_date": &e} {
		if v := p.get(name); v != "" {
			t, err := ParseTime(name, v)
			if err != nil {
				return start, end, err
			}
			*dst = &t
		}
	}
	switch {
	case s == nil && e == nil:
		return now.Add(-Window), now, nil
	case s == nil:
		return e.Add(-Window), *e, nil
	case e == nil:
		return *s, s.Add(Window), nil
	}
	if e.Before(*s) {
		return start, end, invalid("end_date is before start_date")
	}
	if e.Sub(*s) > Window {
		return start, end, invalid("start_date and end_date are %.1f days apart: at most 90", e.Sub(*s).Hours()/24)
	}
	return *s, *e, nil
}

func parseIDs(v string) ([]int64, error) {
	parts := strings.Split(v, ",")
	if len(parts) > MaxResults {
		return nil, invalid("service_request_id: at most %d ids", MaxResults)
	}
	var out []int64
	seen := map[int64]bool{}
	for _, raw := range parts {
		id, ok := ParseID(strings.TrimSpace(raw))
		if !ok {
			return nil, invalid("service_request_id %q is not a service request id (a positive whole number)", truncate(raw, 40))
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// ParseID reads a service_request_id: the case id as a decimal string.
func ParseID(s string) (int64, bool) {
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func parseInt(name, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid("%s %q: want a whole number from %d to %d", name, truncate(v, 40), lo, hi)
	}
	return n, nil
}

// UpdatesQuery is a parsed GET servicerequestupdates: events within
// [Start, End], oldest first, at most MaxResults.
type UpdatesQuery struct {
	Start, End time.Time
}

// ParseUpdatesQuery reads start_date and end_date as GET requests does.
func ParseUpdatesQuery(q url.Values, now time.Time) (*UpdatesQuery, error) {
	s, e, err := parseWindow(params(q), now)
	if err != nil {
		return nil, err
	}
	return &UpdatesQuery{Start: s, End: e}, nil
}
