package open311_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"citygrid/open311"
)

func TestParseSubmission(t *testing.T) {
	for _, tt := range []struct {
		name, form, wantErr string
	}{
		{"minimal", "service_code=E0101&lat=36.07&long=120.36", ""},
		{"everything", "api_key=k&jurisdiction_id=x&service_code=E0101&lat=36.07&long=120.36&description=a%0Ab&media_url=https://e.org/a.jpg&email=a@b&first_name=A&last_name=B&phone=1&device_id=d&account_id=7&external_id=e1&attribute[size]=s&attribute[smell][]=rot&attribute[smell][]=oil", ""},
		{"empty is absent", "service_code=E0101&lat=36.07&long=120.36&description=&email=&address_string=", ""},
		{"no service", "lat=36.07&long=120.36", "service_code is missing"},
		{"address", "service_code=E0101&address_string=1+Main+St", "address_string and address_id are not supported"},
		{"address id", "service_code=E0101&address_id=77", "not supported"},
		{"no location", "service_code=E0101", "lat and long"},
		{"half", "service_code=E0101&lat=36", "go together"},
		{"lat range", "service_code=E0101&lat=91&long=120", "lat"},
		{"nan", "service_code=E0101&lat=NaN&long=120", "lat"},
		{"twice", "service_code=E0101&service_code=E0102&lat=36&long=120", "more than once"},
		{"unknown", "service_code=E0101&lat=36&long=120&colour=red", "unknown field"},
		{"media", "service_code=E0101&lat=36&long=120&media_url=javascript:alert(1)", "media_url"},
		{"single twice", "service_code=E0101&lat=36&long=120&attribute[size]=s&attribute[size]=l", "attribute[size][]"},
		{"long", "service_code=E0101&lat=36&long=120&description=" + strings.Repeat("字", 4001), "4000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form, err := url.ParseQuery(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			s, err := open311.ParseSubmission(form)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.ServiceCode != "E0101" || s.Lat != 36.07 || s.Long != 120.36 {
				t.Errorf("got %+v", s)
			}
			if tt.name == "everything" && (strings.Join(s.Attributes["smell"], ",") != "rot,oil" || s.APIKey != "k" || s.ExternalID != "e1" || s.Description != "a\nb") {
				t.Errorf("got %+v", s)
			}
		})
	}
}

func TestCheckAttributes(t *testing.T) {
	defs := mustFind(t, testCategories(t), "E0101").Attributes
	for _, tt := range []struct {
		name    string
		given   map[string][]string
		wantErr string
	}{
		{"required only", map[string][]string{"size": {"s"}}, ""},
		{"all", map[string][]string{"size": {"l"}, "smell": {"rot", "oil"}, "count": {"3"}, "seen": {"2026-11-20T09:30:00.5+08:00"}, "note": {"x"}}, ""},
		{"missing required", map[string][]string{"smell": {"rot"}}, "attribute[size] is required"},
		{"unknown code", map[string][]string{"size": {"s"}, "colour": {"red"}}, "no such attribute"},
		{"not a key", map[string][]string{"size": {"xl"}}, "not one of its values"},
		{"multi not a key", map[string][]string{"size": {"s"}, "smell": {"rot", "mint"}}, "not one of its values"},
		{"number", map[string][]string{"size": {"s"}, "count": {"three"}}, "not a number"},
		{"datetime", map[string][]string{"size": {"s"}, "seen": {"2026-11-20T09:30:00"}}, "no time zone"},
		{"single many", map[string][]string{"size": {"s", "l"}}, "takes one value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := open311.CheckAttributes(defs, tt.given)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "all" && (got["count"] != 3.0 || got["seen"] != "2026-11-20T01:30:00Z" || len(got["smell"].([]string)) != 2) {
				t.Errorf("got %v", got)
			}
		})
	}
}

func TestParseRequestsQuery(t *testing.T) {
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, query, wantErr string
		check                func(*open311.RequestsQuery) bool
	}{
		{"defaults", "", "", func(q *open311.RequestsQuery) bool {
			return q.End.Equal(now) && q.Start.Equal(now.Add(-open311.Window)) && q.Page == 1 && q.PageSize == 1000
		}},
		{"empty is absent", "status=&service_code=&start_date=&lat=&page=", "", func(q *open311.RequestsQuery) bool { return q.Statuses == nil && q.Page == 1 }},
		{"ids override", "service_request_id=3,1,3&status=bogus", "", func(q *open311.RequestsQuery) bool { return len(q.IDs) == 2 && q.IDs[0] == 3 }},
		{"start alone", "start_date=2026-01-01T00:00:00Z", "", func(q *open311.RequestsQuery) bool { return q.End.Sub(q.Start) == open311.Window }},
		{"window", "start_date=2026-01-01T00:00:00Z&end_date=2026-04-02T00:00:00Z", "at most 90", nil},
		{"reversed", "start_date=2026-02-01T00:00:00Z&end_date=2026-01-02T00:00:00Z", "before start_date", nil},
		{"status", "status=open,closed", "", func(q *open311.RequestsQuery) bool { return len(q.Statuses) == 2 }},
		{"bad status", "status=fixed", "want open or closed", nil},
		{"radius", "lat=36&long=120&radius=300", "", func(q *open311.RequestsQuery) bool { return q.Near != nil && q.Near[0] == 120 && q.RadiusM == 300 }},
		{"radius alone", "lat=36&long=120", "go together", nil},
		{"page size", "page_size=1001", "page_size", nil},
		{"bad id", "service_request_id=1,x", "not a service request id", nil},
		{"updated", "updated_after=2026-11-01T00:00:00Z&updated_before=2026-10-01T00:00:00Z", "updated_after must be before", nil},
		{"extensions", "extensions=true", "", func(q *open311.RequestsQuery) bool { return q.Extensions }},
		{"extensions with ids", "service_request_id=4&extensions=1", "", func(q *open311.RequestsQuery) bool { return q.Extensions && q.IDs[0] == 4 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tt.query)
			q, err := open311.ParseRequestsQuery(v, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !tt.check(q) {
				t.Fatalf("ParseRequestsQuery(%s) = %+v, %v", tt.query, q, err)
			}
		})
	}
}

// The parsers take whatever a client sends: they never panic, and what
// they accept is within their limits.
func FuzzParseSubmission(f *testing.F) {
	f.Add("service_code=E0101&lat=36.07&long=120.36&attribute[a][]=1&attribute[a][]=2")
	f.Add("service_code=E0101&address_string=x")
	f.Add("attribute[[]]=1&attribute[x]][]=2&lat=1e400")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		s, err := open311.ParseSubmission(form)
		if err != nil {
			return
		}
		if s.ServiceCode == "" || s.Lat < -90 || s.Lat > 90 || s.Long < -180 || s.Long > 180 {
			t.Fatalf("accepted %+v", s)
		}
		_, _ = open311.CheckAttributes(mustFind(t, testCategories(t), "E0101").Attributes, s.Attributes)
	})
}

func FuzzParseRequestsQuery(f *testing.F) {
	f.Add("service_request_id=1,2&status=open")
	f.Add("start_date=2026-01-01T00:00:00.5%2B08:00&lat=1&long=2&radius=3&page=2&page_size=5")
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := open311.ParseRequestsQuery(v, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return
		}
		if q.IDs == nil && (q.End.Sub(q.Start) > open311.Window || q.End.Before(q.Start) || q.PageSize < 1 || q.PageSize > open311.MaxResults || q.Page < 1) {
			t.Fatalf("accepted %+v", q)
		}
	})
}
