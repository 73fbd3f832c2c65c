package grid

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// MaxDraftNoteLen bounds a draft's note (a document reference, a reason).
const MaxDraftNoteLen = 2000

// ParseDraft reads a draft: a GeoJSON FeatureCollection of the whole grid
// map a version proposes, with two optional foreign members: "successors",
// an object mapping a code the draft retires to the code that takes over
// its references, and "note". Features are read as ParseFeatureCollection
// reads them.
func ParseDraft(r io.Reader) (DraftInput, error) {
	var in DraftInput
	doc, err := io.ReadAll(r)
	if err != nil {
		return in, err
	}
	if in.Grids, err = ParseFeatureCollection(bytes.NewReader(doc)); err != nil {
		return in, err
	}
	var extra struct {
		Successors json.RawMessage `json:"successors"`
		Note       json.RawMessage `json:"note"`
	}
	if err := json.Unmarshal(doc, &extra); err != nil {
		return in, fmt.Errorf("parse GeoJSON: %w", err)
	}
	if len(extra.Successors) > 0 && !bytes.Equal(extra.Successors, []byte("null")) {
		if err := json.Unmarshal(extra.Successors, &in.Successors); err != nil {
			return in, fmt.Errorf("successors must be an object mapping retired codes to successor codes")
		}
		for from, to := range in.Successors {
			if err := ValidateCode(from); err != nil {
				return in, fmt.Errorf("successors: %w", err)
			}
			if err := ValidateCode(to); err != nil {
				return in, fmt.Errorf("successors[%q]: %w", from, err)
			}
		}
	}
	if len(extra.Note) > 0 && !bytes.Equal(extra.Note, []byte("null")) {
		if err := json.Unmarshal(extra.Note, &in.Note); err != nil {
			return in, fmt.Errorf("note must be a string")
		}
		if len(in.Note) > MaxDraftNoteLen {
			return in, fmt.Errorf("note is longer than %d bytes", MaxDraftNoteLen)
		}
	}
	return in, nil
}
