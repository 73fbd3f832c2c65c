package strictjson

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestCheckKeys(t *testing.T) {
	many := `{"k0":0`
	for i := 1; i < 40; i++ {
		many += `,"k` + strings.Repeat("x", i) + `":1`
	}
	tests := []struct {
		name      string
		body      string
		wantDup   bool
		wantPath  string
		wantKey   string
		wantField string
	}{
		{"no duplicates", `{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, false, "", "", ""},
		{"at the top", `{"category":"E0101","title":"x","category":"C0201"}`, true, "", "category", "category"},
		{"nested object", `{"properties":{"caller":"a","caller":"b"}}`, true, "properties", "caller", "properties.caller"},
		{"in an array", `{"points":[{"x":1},{"x":1,"x":2}]}`, true, "points[1]", "x", "points[1].x"},
		{"array of arrays", `[[1,2],[{"a":1,"a":1}]]`, true, "[1][0]", "a", "[1][0].a"},
		{"the same key in sibling objects is fine", `[{"a":1},{"a":1}]`, false, "", "", ""},
		{"a key equal to a value is fine", `{"a":"a","b":"a"}`, false, "", "", ""},
		{"the empty key twice", `{"":1,"":2}`, true, "", "", ""},
		{"many keys, then a repeat", many + `,"k0":2}`, true, "", "k0", "k0"},
		{"malformed is left to the decoder", `{"a":1,"b"`, false, "", "", ""},
		{"a scalar", `"a"`, false, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckKeys([]byte(tt.body))
			if !tt.wantDup {
				if err != nil {
					t.Fatalf("CheckKeys = %v, want nil", err)
				}
				return
			}
			var de *DuplicateKeyError
			if !errors.As(err, &de) || de.Path != tt.wantPath || de.Key != tt.wantKey || de.Field() != tt.wantField {
				t.Fatalf("CheckKeys = %#v, want key %q at %q (field %q)", err, tt.wantKey, tt.wantPath, tt.wantField)
			}
			if !strings.Contains(err.Error(), `"`+tt.wantKey+`"`) || !strings.Contains(err.Error(), "only once") {
				t.Errorf("message %q names neither the key nor the rule", err)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	type body struct {
		Category string `json:"category"`
		Priority *int   `json:"priority"`
	}
	tests := []struct {
		name string
		body string
		want string // in the error; "" for none
	}{
		{"fine", `{"category":"E01","priority":2}`, ""},
		{"duplicate", `{"category":"E01","category":"C02"}`, `duplicate key "category"`},
		{"unknown field", `{"colour":"red"}`, "unknown field"},
		{"trailing data", `{"category":"E01"} {}`, "data after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b body
			err := Decode([]byte(tt.body), &b)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("Decode(%s) = %v, want %q", tt.body, err, tt.want)
			}
		})
	}
}

func TestDescribeTypeError(t *testing.T) {
	type body struct {
		Priority *int      `json:"priority"`
		Limit    int       `json:"limit"`
		Name     string    `json:"name"`
		Location []float64 `json:"location"`
	}
	tests := []struct{ body, want string }{
		{`{"priority":2.5}`, "2.5 is not a whole number: an integer is required"},
		{`{"limit":1e30}`, "1e30 is out of range for an integer"},
		{`{"limit":"10"}`, "expected an integer, got JSON string"},
		{`{"name":5}`, "expected a string, got JSON number"},
		{`{"location":{}}`, "expected an array, got JSON object"},
	}
	for _, tt := range tests {
		var b body
		var te *json.UnmarshalTypeError
		if err := json.Unmarshal([]byte(tt.body), &b); !errors.As(err, &te) {
			t.Fatalf("%s: %v is not a type error", tt.body, err)
		}
		if got := DescribeTypeError(te); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.body, got, tt.want)
		}
	}
}

// BenchmarkCheckKeys measures the check against decoding the same body: a
// POST /v1/locate of 10,000 points, the largest ordinary body.
func BenchmarkCheckKeys(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"crs":"wgs84","category":"E0101","points":[`)
	for i := range 10000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`[120.37123456789,36.08123456789]`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	var v struct {
		CRS      string        `json:"crs"`
		Category string        `json:"category"`
		Points   [][2]*float64 `json:"points"`
	}
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			_ = json.Unmarshal(body, &v)
		}
	})
	b.Run("check", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			_ = CheckKeys(body)
		}
	})
}
