package cases

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // in the error; "" for a time
	}{
		{"2026-11-23T09:30:00+08:00", ""},
		{"2026-11-23T01:30:00Z", ""},
		{"2026-11-23T09:30:00.5-05:00", ""},
		{"2026-11-23T09:30:00", `"2026-11-23T09:30:00" has no time zone: add Z for UTC or an offset such as +08:00`},
		{"2026-11-23 09:30", "has no time zone"},
		// What from=…T09:30:00+08:00 becomes in a URL query when the + is
		// not written %2B.
		{"2026-11-23T09:30:00 08:00", "has a space where its offset's + should be: in a URL query a + stands for a space, so write it as %2B"},
		{"2026-11-23 09:30:00+08:00", "separates the date and the time with a space: RFC 3339 wants a T"},
		{"2026-11-23", "is a date without a time of day: want an RFC 3339 time such as 2026-11-23T00:00:00+08:00"},
		{"2026-13-23T09:30:00Z", "is not a valid time: month out of range"},
		{"yesterday", `"yesterday" is not an RFC 3339 time such as 2026-11-23T09:30:00+08:00`},
		{"", "is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseTime("from", tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ParseTime(%q) = %v", tt.in, err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "from" || !strings.Contains(fe.Message, tt.want) {
				t.Fatalf("ParseTime(%q) = %v, want a from error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

// TestInputJSON: a case object decodes as encoding/json would, but a bad
// reported_at and a wrong-typed field are named, without Go's plumbing.
func TestInputJSON(t *testing.T) {
	tests := []struct {
		body, field, want string
	}{
		{`{"reported_at":"2026-11-23T09:30:00+08:00","priority":2}`, "", ""},
		{`{"reported_at":null}`, "", ""},
		{`{"reported_at":"2026-11-23T09:30:00"}`, "reported_at", "has no time zone"},
		{`{"reported_at":5}`, "reported_at", "cannot unmarshal number"},
		{`{"priority":2.5}`, "priority", "number 2.5"},
		{`{"colour":"red"}`, "", "unknown field"},
	}
	for _, tt := range tests {
		var in Input
		err := json.Unmarshal([]byte(tt.body), &in)
		if tt.want == "" {
			if err != nil || in.ReportedAt == nil && strings.Contains(tt.body, "T09") {
				t.Errorf("%s: %v, %v", tt.body, err, in.ReportedAt)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want it to contain %q", tt.body, err, tt.want)
			continue
		}
		var te *json.UnmarshalTypeError
		var fe *FieldError
		switch {
		case errors.As(err, &te) && te.Field != tt.field:
			t.Errorf("%s: type error on field %q, want %q", tt.body, te.Field, tt.field)
		case errors.As(err, &fe) && fe.Field != tt.field:
			t.Errorf("%s: field %q, want %q", tt.body, fe.Field, tt.field)
		}
	}
}

// TestIngestLineErrors: a bulk line names the field and the rule it breaks,
// a key given twice among them.
func TestIngestLineErrors(t *testing.T) {
	store := &memStore{}
	ing := fuzzIngester(t, store)
	ok := `"source":"s","category":"E0101","location":[120.36,36.08]`
	lines := []struct{ line, want string }{
		{`{` + ok + `,"external_id":"1"}`, ""},
		{`{` + ok + `,"external_id":"2","category":"C0101"}`, `category: given twice: a key may appear only once in an object`},
		{`{` + ok + `,"external_id":"3","properties":{"a":1,"a":2}}`, `properties.a: given twice`},
		{`{` + ok + `,"external_id":"4","priority":2.5}`, `priority: 2.5 is not a whole number: an integer is required`},
		{`{` + ok + `,"external_id":"5","reported_at":"2026-11-20T09:30:00"}`, `reported_at: "2026-11-20T09:30:00" has no time zone`},
		{`{` + ok + `,"external_id":"6"} {}`, "more than one JSON value on the line"},
		{`[1,2]`, "the line is a JSON array, not a case object"},
	}
	var body strings.Builder
	for _, l := range lines {
		body.WriteString(l.line + "\n")
	}
	res, err := ing.Ingest(context.Background(), strings.NewReader(body.String()), BulkNDJSON)
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || len(res.Rejected) != len(lines)-1 {
		t.Fatalf("accepted %d, rejected %+v", res.Accepted, res.Rejected)
	}
	for i, r := range res.Rejected {
		if want := lines[i+1].want; r.Line != i+2 || !strings.Contains(r.Error, want) {
			t.Errorf("line %d: %q, want line %d: %q", r.Line, r.Error, i+2, want)
		}
	}
	csvBody := "source,external_id,category,lng,lat,priority,reported_at\n" +
		"s,c1,E0101,120.36,36.08,2.5,\n" +
		"s,c2,E0101,120.36,36.08,,2026-11-20T09:30:00 08:00\n"
	res, err = ing.Ingest(context.Background(), strings.NewReader(csvBody), BulkCSV)
	if err != nil {
		t.Fatal(err)
	}
	wantCSV := []string{`priority: "2.5" is not a whole number`, "has a space where its offset's + should be"}
	if len(res.Rejected) != 2 || !strings.Contains(res.Rejected[0].Error, wantCSV[0]) || !strings.Contains(res.Rejected[1].Error, wantCSV[1]) {
		t.Errorf("CSV rejections %+v, want %q", res.Rejected, wantCSV)
	}
}
