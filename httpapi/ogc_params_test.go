package httpapi

import (
	"errors"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid"
)

func TestOGCDatetime(t *testing.T) {
	at := func(s string) *time.Time {
		v, _ := time.Parse(time.RFC3339Nano, s)
		return &v
	}
	tests := []struct {
		in       string
		from, to *time.Time
		bad      bool
	}{
		{"", nil, nil, false},
		{"2026-11-23T01:00:00Z", at("2026-11-23T01:00:00Z"), at("2026-11-23T01:00:00.000001Z"), false},
		{"2026-11-23T00:00:00Z/2026-11-23T01:00:00Z", at("2026-11-23T00:00:00Z"), at("2026-11-23T01:00:00.000001Z"), false},
		{"2026-11-23T00:00:00Z/..", at("2026-11-23T00:00:00Z"), nil, false},
		{"2026-11-23T00:00:00Z/", at("2026-11-23T00:00:00Z"), nil, false},
		{"../2026-11-23T00:00:00Z", nil, at("2026-11-23T00:00:00.000001Z"), false},
		{"../..", nil, nil, false},
		{"2026-11-23T01:00:00Z/2026-11-23T01:00:00Z", at("2026-11-23T01:00:00Z"), at("2026-11-23T01:00:00.000001Z"), false},
		{"..", nil, nil, true},
		{"2026-11-23", nil, nil, true},
		{"2026-11-23T02:00:00Z/2026-11-23T01:00:00Z", nil, nil, true},
		{"a/b/c", nil, nil, true},
		{"2026-11-23T00:00:00", nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			from, to, err := ogcDatetime(tt.in)
			if tt.bad {
				var e *citygrid.Error
				if !errors.As(err, &e) || e.Code != citygrid.CodeInvalid {
					t.Fatalf("ogcDatetime(%q) error = %v, want invalid", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ogcDatetime(%q): %v", tt.in, err)
			}
			same := func(a, b *time.Time) bool { return a == nil && b == nil || a != nil && b != nil && a.Equal(*b) }
			if !same(from, tt.from) || !same(to, tt.to) {
				t.Errorf("ogcDatetime(%q) = %v, %v; want %v, %v", tt.in, from, to, tt.from, tt.to)
			}
		})
	}
}

// FuzzOGCDatetime: any input is an interval that starts before it ends,
// or a client error; never a panic.
func FuzzOGCDatetime(f *testing.F) {
	for _, s := range []string{"2026-11-23T01:00:00Z", "../2026-11-23T01:00:00+08:00", "2026-11-23T01:00:00Z/..", "/", "..", "a/b/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := ogcDatetime(s)
		var e *citygrid.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("ogcDatetime(%q): an error not for clients: %v", s, err)
		}
		if err == nil && from != nil && to != nil && !from.Before(*to) {
			t.Fatalf("ogcDatetime(%q) = [%v, %v): empty", s, from, to)
		}
	})
}

// FuzzOGCBBox: a box, or a client error; never a panic.
func FuzzOGCBBox(f *testing.F) {
	for _, s := range []string{"1,2,3,4", "120.35,36.07,0,120.37,36.09,10", "1,2,3", "a,b,c,d", "NaN,0,1,1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := ogcBBox(s)
		var e *citygrid.Error
		if err != nil && !errors.As(err, &e) {
			t.Fatalf("ogcBBox(%q): %v", s, err)
		}
		if err == nil && b != nil && (b.Min[0] > b.Max[0] || b.Min[1] > b.Max[1]) {
			t.Fatalf("ogcBBox(%q) = %v", s, b)
		}
	})
}

func TestPolygonMeetsBound(t *testing.T) {
	diamond := orb.Polygon{{{0, -1}, {1, 0}, {0, 1}, {-1, 0}, {0, -1}}}
	box := func(x0, y0, x1, y1 float64) orb.Bound {
		return orb.Bound{Min: orb.Point{x0, y0}, Max: orb.Point{x1, y1}}
	}
	tests := []struct {
		name string
		b    orb.Bound
		want bool
	}{
		{"a vertex inside", box(0.9, -0.1, 2, 0.1), true},
		{"the box inside", box(-0.1, -0.1, 0.1, 0.1), true},
		{"edges cross", box(0.4, 0.4, 0.6, 2), true},
		{"in the bound, beside the polygon", box(0.8, 0.8, 1, 1), false},
		{"far away", box(5, 5, 6, 6), false},
	}
	for _, tt := range tests {
		if got := polygonMeetsBound(diamond, tt.b); got != tt.want {
			t.Errorf("%s: polygonMeetsBound = %t, want %t", tt.name, got, tt.want)
		}
	}
}
