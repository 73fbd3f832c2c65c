package open311

import (
	"time"

	"citygrid"
	"citygrid/cases"
)

// w3cMinutes is the W3C-DTF form without seconds, which the spec's
// datetime note allows.
const w3cMinutes = "2006-01-02T15:04Z07:00"

// ParseTime reads a W3C datetime (the spec's format) with its zone: Z or
// any offset, seconds optional, fractional seconds accepted (Chicago and
// Toronto once refused them, open311status#4 and #92). A time without a
// zone is refused, naming the parameter.
func ParseTime(name, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(w3cMinutes, s); err == nil {
		return t, nil
	}
	_, err := cases.ParseTime(name, s)
	if err == nil { // cannot happen: RFC3339Nano parses all RFC3339 does
		err = citygrid.Errorf(citygrid.CodeInvalid, "%s: %q is not a W3C datetime", name, truncate(s, 40))
	}
	return time.Time{}, citygrid.Errorf(citygrid.CodeInvalid, "%v", err)
}

// FormatTime writes t as a W3C datetime with its zone, in loc (nil: UTC),
// to the second.
func FormatTime(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(time.RFC3339)
}
