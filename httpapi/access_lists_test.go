package httpapi_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"citygrid/access"
)

// TestAccessListsCut: every list, area query, export and summary is cut to
// the caller's scope without a word: an S1 key never sees a case id or a
// grid code of S2, a handler only its unit's cases, an integration only its
// source's.
func TestAccessListsCut(t *testing.T) {
	a := newAccessAPI(t)
	outU2 := a.newCase("out-u2", "s2only", "E0101", inG3, "") // E01 in C2: unit U2, a source used only in S2
	handlerU2, _ := makeKeyWithID(t, a.tx, access.Key{Role: access.RoleHandler, Scope: []string{"S1"}, Unit: "U2"})
	s1 := []string{a.in, a.inU2, a.inHotline, a.dispatched, a.resolved, a.verified}
	s2 := []string{a.out, outU2}
	without := func(list []string, drop string) []string {
		return slices.DeleteFunc(slices.Clone(list), func(id string) bool { return id == drop })
	}
	callers := []struct {
		name string
		auth string
		ids  []string // the cases the caller sees
	}{
		{"admin", a.bearer(asAdmin), append(slices.Clone(s1), s2...)},
		{"dispatcher", a.bearer(asDispatcher), s1},
		{"handler U1", a.bearer(asHandler), without(s1, a.inU2)},
		{"handler U2", "Bearer " + handlerU2, []string{a.inU2}},
		{"inspector", a.bearer(asInspector), s1},
		{"planner", a.bearer(asPlanner), s1},
		{"viewer", a.bearer(asViewer), s1},
		{"integration patrol", a.bearer(asIntegration), without(s1, a.inHotline)},
	}

	// The H3 cells of every case, for the h3 area.
	var all struct {
		Features []struct{ Properties map[string]any }
	}
	a.send(asAdmin, "GET", "/v1/cases?grid=D", "").decode(t, &all)
	var cells []string
	for _, f := range all.Features {
		cells = append(cells, fmt.Sprint(f.Properties["h3"]))
	}
	area := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
		x0, y0, x0+0.02, y0, x0+0.02, y0+0.02, x0, y0+0.02, x0, y0)
	queries := []struct {
		name, method, path, body string
		csv                      bool
	}{
		{"bbox", "GET", fmt.Sprintf("/v1/cases?bbox=%v,%v,%v,%v", x0, y0, x0+0.02, y0+0.02), "", false},
		{"grid of the district (an outline)", "GET", "/v1/cases?grid=D", "", false},
		{"near", "GET", fmt.Sprintf("/v1/cases?near=%v,%v&radius=5000", x0+0.01, y0+0.01), "", false},
		{"h3", "GET", "/v1/cases?h3=" + strings.Join(slices.Compact(slices.Sorted(slices.Values(cells))), ","), "", false},
		{"status filter", "GET", "/v1/cases?grid=D&status=reported,accepted,dispatched,resolved,verified", "", false},
		{"search", "POST", "/v1/cases/search", `{"polygon":` + area + `}`, false},
		{"CSV", "GET", "/v1/cases?grid=D&format=csv", "", true},
		{"search CSV", "POST", "/v1/cases/search", `{"polygon":` + area + `,"format":"csv"}`, true},
	}
	for _, c := range callers {
		for _, q := range queries {
			r := a.sendAuth(c.auth, q.method, q.path, q.body)
			var got []string
			if q.csv {
				got = csvIDs(t, r)
			} else {
				got = replyCaseIDs(t, r)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.ids))
			if !slices.Equal(got, want) {
				t.Errorf("%s, %s: cases %v, want %v", c.name, q.name, got, want)
			}
			if c.name != "admin" {
				noS2(t, c.name+", "+q.name, r.body)
			}
		}
	}

	t.Run("stats", func(t *testing.T) {
		period := "&from=2026-11-01T00:00:00Z&to=2026-11-24T00:00:00Z"
		for _, c := range callers {
			if c.name == "integration patrol" || c.name == "viewer" {
				continue // no stats for them (the matrix)
			}
			r := a.sendAuth(c.auth, "GET", "/v1/stats?by=grid"+period, "")
			var stats struct {
				Rows []struct {
					Key      string
					Received int
				}
			}
			r.decode(t, &stats)
			received := 0
			for _, row := range stats.Rows {
				received += row.Received
				if c.name != "admin" && row.Key != "G1" && row.Key != "G2" {
					t.Errorf("%s: stats by grid has a row for %q", c.name, row.Key)
				}
			}
			if received != len(c.ids) {
				t.Errorf("%s: stats count %d cases received, want %d: %s", c.name, received, len(c.ids), r.body)
			}
			if c.name != "admin" {
				noS2(t, c.name+", stats", r.body)
			}
		}
	})

	t.Run("grids", func(t *testing.T) {
		for _, c := range callers[1:] {
			for _, path := range []string{"/v1/grids", "/v1/grids?level=grid", "/v1/grids?parent=C2", "/v1/grids?level=street"} {
				r := a.sendAuth(c.auth, "GET", path, "")
				if r.status != http.StatusOK {
					t.Errorf("%s: GET %s = %d %s", c.name, path, r.status, r.body)
				}
				noS2(t, c.name+", GET "+path, r.body)
				for _, code := range []string{`"S2"`, `"C2"`} {
					if bytes.Contains(r.body, []byte(code)) {
						t.Errorf("%s: GET %s names grid %s", c.name, path, code)
					}
				}
			}
		}
	})

	t.Run("sources", func(t *testing.T) {
		for _, c := range callers[1:] {
			r := a.sendAuth(c.auth, "GET", "/v1/sources", "")
			if bytes.Contains(r.body, []byte("s2only")) {
				t.Errorf("%s: GET /v1/sources names a source used only beside the scope: %s", c.name, r.body)
			}
		}
	})
}

// noS2 fails when body names a grid of street S2's unit grids.
func noS2(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, code := range []string{"G3", g4} {
		if bytes.Contains(body, []byte(code)) {
			t.Errorf("%s: the answer names grid %q, beside the scope", what, code)
		}
	}
}

// csvIDs are the case ids of a CSV reply.
func csvIDs(t *testing.T, r reply) []string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("CSV status %d: %s", r.status, r.body)
	}
	records, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
	if err != nil || len(records) == 0 || records[0][0] != "id" {
		t.Fatalf("not the case CSV (%v): %s", err, r.body)
	}
	ids := []string{}
	for _, rec := range records[1:] {
		ids = append(ids, rec[0])
	}
	return ids
}

// TestAccessPossibleDuplicatesCut: a new report lists the possible
// duplicates near it, but only those the reporter may see: a case just
// across the street boundary is not named to an S1 key.
func TestAccessPossibleDuplicatesCut(t *testing.T) {
	a := newAccessAPI(t)
	across := a.newCase("across", "patrol", "E0101", [2]float64{x0 + 0.0101, y0 + 0.005}, "") // G3, some 18 m from the report below
	near := [2]float64{x0 + 0.0099, y0 + 0.005}                                               // G1
	duplicates := func(w caller) []string {
		r := a.try(w, "POST", "/v1/cases", reportJSON("patrol", "near-the-boundary", near, ""))
		if r.status != http.StatusCreated {
			t.Fatalf("%s reports: %d %s", w, r.status, r.body)
		}
		var f struct {
			Properties struct {
				PossibleDuplicates []struct{ ID string } `json:"possible_duplicates"`
			}
		}
		r.decode(t, &f)
		var ids []string
		for _, d := range f.Properties.PossibleDuplicates {
			ids = append(ids, d.ID)
		}
		return ids
	}
	if ids := duplicates(asAdmin); !slices.Contains(ids, across) {
		t.Fatalf("the admin's report lists %v, want the case across the boundary (%s) among them", ids, across)
	}
	for _, w := range []caller{asDispatcher, asInspector, asIntegration} {
		if ids := duplicates(w); slices.Contains(ids, across) {
			t.Errorf("%s's report lists the case across the boundary: %v", w, ids)
		}
	}
}
