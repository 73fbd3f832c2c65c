package open311

import (
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"citygrid"
	"citygrid/cases"
)

// Submission is a POSTed service request, parsed and checked in itself
// (its attributes against the service's definition by CheckAttributes).
type Submission struct {
	APIKey      string
	ServiceCode string
	Lat, Long   float64 // WGS84
	Description string
	MediaURL    string
	// Attributes are attribute[code]=v and attribute[code][]=v, by code,
	// values in the order sent.
	Attributes map[string][]string
	// ExternalID is the client's own id of the report (external_id); the
	// caller may take it from an Idempotency-Key header instead.
	ExternalID string
	// Contact and device details, kept with the case and never shown
	// through the façade.
	Email, FirstName, LastName, Phone, DeviceID, AccountID string
}

// MaxDescriptionLen is the spec's limit on a description (characters).
const MaxDescriptionLen = 4000

// submissionFields are the form fields a submission may carry, besides
// attribute[…]; jurisdiction_id is accepted and ignored (citygrid is one
// jurisdiction, and clients send it anyway: FixMyStreet #949).
var submissionFields = map[string]bool{
	"api_key": true, "jurisdiction_id": true, "service_code": true, "lat": true, "long": true,
	"address_string": true, "address_id": true, "email": true, "device_id": true, "account_id": true,
	"first_name": true, "last_name": true, "phone": true, "description": true, "media_url": true, "external_id": true,
}

// attributeField matches attribute[code] and attribute[code][].
var attributeField = regexp.MustCompile(`^attribute\[([^\[\]]+)\](\[\])?$`)

func invalid(format string, a ...any) error {
	return citygrid.Errorf(citygrid.CodeInvalid, format, a...)
}

// ParseSubmission reads a POSTed form. An empty field is an absent one;
// a field given twice (but a multi-value attribute) is refused, as is an
// unknown one.
func ParseSubmission(form url.Values) (*Submission, error) {
	s := &Submission{Attributes: map[string][]string{}}
	get := map[string]string{}
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vals := form[k]
		if m := attributeField.FindStringSubmatch(k); m != nil {
			var kept []string
			for _, v := range vals {
				if v != "" {
					kept = append(kept, v)
				}
			}
			if len(kept) == 0 {
				continue
			}
			if m[2] == "" && len(kept) > 1 {
				return nil, invalid("%s is given %d times: a list attribute's values go as attribute[%s][]", truncate(k, 60), len(kept), truncate(m[1], 40))
			}
			s.Attributes[m[1]] = append(s.Attributes[m[1]], kept...)
			continue
		}
		if !submissionFields[k] {
			return nil, invalid("unknown field %q", truncate(k, 40))
		}
		var v string
		for _, one := range vals {
			if one == "" {
				continue
			}
			if v != "" {
				return nil, invalid("%s is given more than once", k)
			}
			v = one
		}
		if v != "" {
			if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
				return nil, invalid("%s is not valid UTF-8 text", k)
			}
			get[k] = v
		}
	}
	s.APIKey = get["api_key"]
	s.ServiceCode = get["service_code"]
	if s.ServiceCode == "" {
		return nil, invalid("service_code is missing")
	}
	lat, long := get["lat"], get["long"]
	switch {
	case lat == "" && long == "" && (get["address_string"] != "" || get["address_id"] != ""):
		return nil, invalid("address_string and address_id are not supported: send the location as lat and long (WGS84)")
	case lat == "" && long == "":
		return nil, invalid("the location is missing: send lat and long (WGS84)")
	case lat == "" || long == "":
		return nil, invalid("lat and long go together: send both (WGS84)")
	}
	var err error
	if s.Lat, err = parseCoord("lat", lat, 90); err != nil {
		return nil, err
	}
	if s.Long, err = parseCoord("long", long, 180); err != nil {
		return nil, err
	}
	s.Description = get["description"]
	if n := utf8.RuneCountInString(s.Description); n > MaxDescriptionLen {
		return nil, invalid("description is %d characters long, at most %d", n, MaxDescriptionLen)
	}
	if v := get["media_url"]; v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(v) > 2000 {
			return nil, invalid("media_url %q is not an http or https URL", truncate(v, 60))
		}
		s.MediaURL = v
	}
	s.ExternalID = get["external_id"]
	if len(s.ExternalID) > cases.MaxExternalIDLen {
		return nil, invalid("external_id is longer than %d bytes", cases.MaxExternalIDLen)
	}
	s.Email, s.FirstName, s.LastName, s.Phone = get["email"], get["first_name"], get["last_name"], get["phone"]
	s.DeviceID, s.AccountID = get["device_id"], get["account_id"]
	for _, k := range []string{"email", "first_name", "last_name", "phone", "device_id", "account_id"} {
		if len(get[k]) > 200 {
			return nil, invalid("%s is longer than 200 bytes", k)
		}
	}
	return s, nil
}

func parseCoord(name, s string, limit float64) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v != v || v < -limit || v > limit {
		return 0, invalid("%s %q: want a WGS84 number from %g to %g", name, truncate(s, 40), -limit, limit)
	}
	return v, nil
}

// CheckAttributes checks submitted attributes against a service's
// definition and returns them as stored: a list attribute's keys, a
// number as a number, the rest as given. Unknown codes, missing required
// ones, wrong types and values not among a list's keys are refused.
func CheckAttributes(defs []cases.Attribute, given map[string][]string) (map[string]any, error) {
	byCode := map[string]cases.Attribute{}
	for _, d := range defs {
		byCode[d.Code] = d
	}
	codes := make([]string, 0, len(given))
	for code := range given {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	out := map[string]any{}
	for _, code := range codes {
		d, ok := byCode[code]
		if !ok {
			return nil, invalid("attribute[%s]: the service has no such attribute", truncate(code, 40))
		}
		vals := given[code]
		if d.Datatype != "multivaluelist" && len(vals) > 1 {
			return nil, invalid("attribute[%s]: a %s attribute takes one value", code, d.Datatype)
		}
		switch d.Datatype {
		case "number":
			n, err := strconv.ParseFloat(vals[0], 64)
			if err != nil || n != n || n > 1e300 || n < -1e300 {
				return nil, invalid("attribute[%s]: %q is not a number", code, truncate(vals[0], 40))
			}
			out[code] = n
		case "datetime":
			t, err := ParseTime("attribute["+code+"]", vals[0])
			if err != nil {
				return nil, err
			}
			out[code] = FormatTime(t, nil)
		case "string", "text":
			max := 500
			if d.Datatype == "text" {
				max = MaxDescriptionLen
			}
			if utf8.RuneCountInString(vals[0]) > max {
				return nil, invalid("attribute[%s]: longer than %d characters", code, max)
			}
			out[code] = vals[0]
		default: // the lists
			keys := map[string]bool{}
			for _, v := range d.Values {
				keys[v.Key] = true
			}
			for _, v := range vals {
				if !keys[v] {
					return nil, invalid("attribute[%s]: %q is not one of its values' keys", code, truncate(v, 40))
				}
			}
			if d.Datatype == "singlevaluelist" {
				out[code] = vals[0]
			} else {
				out[code] = vals
			}
		}
	}
	for _, d := range defs {
		if _, ok := out[d.Code]; d.Required && !ok {
			return nil, invalid("attribute[%s] is required: %s", d.Code, d.Description)
		}
	}
	return out, nil
}
