package caseindex

import (
	"slices"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
)

// TestFilterCategories: a category filter is a list of prefixes, any of
// which a case's category may start with; each keeps prefix semantics.
func TestFilterCategories(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	x := New()
	for i, cat := range []string{"E0101", "E0102", "E0501", "C0104", "C02"} {
		e := Entry{ID: int64(i + 1), Location: orb.Point{120.37, 36.09}, ReportedAt: now, Category: cat, Status: cases.StatusReported, Source: "patrol"}
		if _, err := x.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name       string
		categories []string
		want       []int64
	}{
		{"none: every category", nil, []int64{1, 2, 3, 4, 5}},
		{"one prefix", []string{"E01"}, []int64{1, 2}},
		{"two prefixes", []string{"E01", "C"}, []int64{1, 2, 4, 5}},
		{"a whole code and a prefix", []string{"E0501", "C01"}, []int64{3, 4}},
		{"overlapping prefixes", []string{"E", "E01"}, []int64{1, 2, 3}},
		{"unknown prefix", []string{"Z"}, nil},
	}
	box := orb.Bound{Min: orb.Point{120, 36}, Max: orb.Point{121, 37}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			x.Within(box, Filter{Categories: tt.categories}, func(e Entry) { got = append(got, e.ID) })
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Within(categories %v) = %v, want %v", tt.categories, got, tt.want)
			}
		})
	}
}
