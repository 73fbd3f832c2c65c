package grid

import (
	"strings"
	"testing"
)

// FuzzParseDraft: a draft document either fails as a whole or yields its
// features in order, successors with valid codes and a bounded note.
//
//	go test ./grid -run '^$' -fuzz FuzzParseDraft -fuzztime 60s
func FuzzParseDraft(f *testing.F) {
	for _, s := range []string{
		fc(feature(`{"code":"G1","name":"x","level":"district"}`, polygonJSON(square))),
		`{"type":"FeatureCollection","features":[],"successors":{"G1":"G2"},"note":"批次 2027"}`,
		`{"type":"FeatureCollection","features":[],"successors":[1]}`,
		`{"type":"FeatureCollection","features":[],"successors":{"":"G2"}}`,
		`{"type":"FeatureCollection","features":[],"successors":{"G1":" G2"}}`,
		`{"type":"FeatureCollection","features":[],"note":5}`,
		`{"type":"FeatureCollection","features":[],"successors":null,"note":null}`,
		`{"type":"FeatureCollection","features":[],"successors":{"a":"b","a":"c"}}`,
		``, `{`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		in, err := ParseDraft(strings.NewReader(doc))
		if err != nil {
			return
		}
		for i, g := range in.Grids {
			if g.Index != i {
				t.Fatalf("feature %d has index %d", i, g.Index)
			}
		}
		for from, to := range in.Successors {
			if ValidateCode(from) != nil || ValidateCode(to) != nil {
				t.Fatalf("successor %q → %q accepted", from, to)
			}
		}
		if len(in.Note) > MaxDraftNoteLen {
			t.Fatalf("note of %d bytes accepted", len(in.Note))
		}
	})
}
