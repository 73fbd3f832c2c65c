package grid

import (
	"strings"
	"testing"
)

func TestValidateGridCode(t *testing.T) {
	tests := []struct {
		code    string
		wantErr string // "" for valid
	}{
		{"G1", ""},
		{"网格 4", ""},
		{"imports", ""},
		{"Import", ""}, // paths are case-sensitive: /v1/grids/Import reaches the grid
		{"topology2", ""},
		{"import", `code "import" is reserved`},
		{"topology", `code "topology" is reserved`},
		{"", "code is missing"},
		{" import", "leading or trailing spaces"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			err := ValidateGridCode(tt.code)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ValidateGridCode(%q) = %v, want nil", tt.code, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("ValidateGridCode(%q) = %v, want an error containing %q", tt.code, err, tt.wantErr)
			}
		})
	}
}

// TestReservedCodesAreUnitCodes: only grids share the path, so units may
// still be coded so.
func TestReservedCodesAreUnitCodes(t *testing.T) {
	for _, code := range ReservedCodes {
		if err := ValidateUnit(Unit{Code: code, Name: "x"}); err != nil {
			t.Errorf("ValidateUnit(%q) = %v, want nil", code, err)
		}
	}
}

func TestValidateInputsRejectsReservedCodes(t *testing.T) {
	doc := []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"import","name":"x","level":"district"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
{"type":"Feature","properties":{"code":"topology","name":"y","level":"district"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},
{"type":"Feature","properties":{"code":"D","name":"z","level":"district"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}`)
	in, err := ParseFeatureCollection(strings.NewReader(string(doc)))
	if err != nil {
		t.Fatal(err)
	}
	rej := ValidateInputs(in)
	if len(rej) != 2 || rej[0].Code != "import" || rej[1].Code != "topology" || !strings.Contains(rej[0].Reason, "reserved") {
		t.Fatalf("ValidateInputs = %+v, want import and topology rejected as reserved", rej)
	}
}
