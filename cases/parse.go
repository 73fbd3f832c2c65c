package cases

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"time"
)

// timeExample is an RFC 3339 time as error messages show one.
const timeExample = "2026-11-23T09:30:00+08:00"

// Near misses of RFC 3339 that ParseTime names.
var (
	zonelessTime = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$`)
	// In a URL query "+08:00" arrives as " 08:00": + stands for a space.
	spacedOffset = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)? \d{2}(:?\d{2})?$`)
	spacedTime   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$`)
	dateOnly     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// ParseTime parses the RFC 3339 time given for field. A value that misses
// gets a *FieldError naming the rule it breaks: a time without a zone (the
// server cannot guess whether 09:00 is Beijing's or UTC), a space where the
// offset's + should be (what an unescaped + in a URL query becomes), a
// space for the T, a date alone.
func ParseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err == nil {
		return t, nil
	}
	q := truncateText(s, 40)
	switch {
	case s == "":
		return t, fieldErr(field, "is empty: want an RFC 3339 time such as %s", timeExample)
	case zonelessTime.MatchString(s):
		return t, fieldErr(field, "%q has no time zone: add Z for UTC or an offset such as +08:00 (RFC 3339)", q)
	case spacedOffset.MatchString(s):
		return t, fieldErr(field, "%q has a space where its offset's + should be: in a URL query a + stands for a space, so write it as %%2B (RFC 3339: %s)", q, timeExample)
	case spacedTime.MatchString(s):
		return t, fieldErr(field, "%q separates the date and the time with a space: RFC 3339 wants a T, as in %s", q, timeExample)
	case dateOnly.MatchString(s):
		return t, fieldErr(field, "%q is a date without a time of day: want an RFC 3339 time such as %sT00:00:00+08:00", q, s)
	}
	if pe, ok := err.(*time.ParseError); ok && pe.Message != "" {
		// A well-formed time with a field out of range ("month out of range").
		return t, fieldErr(field, "%q is not a valid time%s", q, pe.Message)
	}
	return t, fieldErr(field, "%q is not an RFC 3339 time such as %s", q, timeExample)
}

// UnmarshalJSON decodes a case as encoding/json would (unknown fields
// refused), but parses reported_at with ParseTime: time.Time's own error
// names neither the field nor what is wrong with the value.
func (in *Input) UnmarshalJSON(b []byte) error {
	type plain Input // without this method
	aux := struct {
		*plain
		ReportedAt *string `json:"reported_at"` // shadows plain's
	}{plain: (*plain)(in)}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&aux); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// The path runs through the embedded field: not the client's.
			te.Field = strings.TrimPrefix(te.Field, "plain.")
		}
		return err
	}
	in.ReportedAt = nil
	if aux.ReportedAt != nil {
		t, err := ParseTime("reported_at", *aux.ReportedAt)
		if err != nil {
			return err
		}
		in.ReportedAt = &t
	}
	return nil
}
