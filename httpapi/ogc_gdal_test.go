package httpapi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// needGDAL finds GDAL's ogrinfo and ogr2ogr, installing gdal-bin the way
// make test does (scripts/install-deps.sh --gdal) when they are missing.
// The test is skipped only when they are missing and cannot be installed
// by a user who is not root (no sudo without a password).
func needGDAL(t *testing.T) {
	t.Helper()
	_, err1 := exec.LookPath("ogrinfo")
	_, err2 := exec.LookPath("ogr2ogr")
	if err1 == nil && err2 == nil {
		return
	}
	out, err := exec.Command("../scripts/install-deps.sh", "--gdal").CombinedOutput()
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("GDAL (gdal-bin: ogrinfo, ogr2ogr) is missing and cannot be installed as this user: %v\n%s\nAs root: apt-get install -y gdal-bin", err, out)
		}
		t.Fatalf("installing GDAL (gdal-bin): %v\n%s", err, out)
	}
}

// gdal runs a GDAL tool with the key as an HTTP header, as a desktop GIS
// would send it.
func gdal(t *testing.T, token string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "GDAL_HTTP_HEADERS=Authorization: Bearer "+token, "GDAL_HTTP_TIMEOUT=20", "CPL_DEBUG=OFF")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// TestGDALReadsTheOGCAPI opens the service with GDAL's OAPIF driver: the
// collections are its layers, and a box of cases copied to a GeoPackage
// (through next links, four to a page) holds exactly the features the API
// answers for that box. GDAL's requests are checked against /openapi.json
// like every other.
func TestGDALReadsTheOGCAPI(t *testing.T) {
	needGDAL(t)
	_, anon, _, token := ogcServerKey(t, 14)
	source := "OAPIF:" + anon.URL + "/ogc"

	layers := gdal(t, token, "ogrinfo", "-ro", "-q", source)
	for _, want := range []string{"grids-district", "grids-street", "grids-community", "grids-grid", "cases", "hotspots"} {
		if !regexp.MustCompile(`(?m)^\d+: ` + regexp.QuoteMeta(want) + `( |$)`).MatchString(layers) {
			t.Errorf("ogrinfo lists no layer %q:\n%s", want, layers)
		}
	}

	// G1 and G3, the southern half: not every case.
	const minX, minY, maxX, maxY = "120.35", "36.07", "120.37", "36.08"
	gpkg := filepath.Join(t.TempDir(), "cases.gpkg")
	gdal(t, token, "ogr2ogr", "-f", "GPKG", gpkg, source, "cases", "-oo", "PAGE_SIZE=4", "-spat", minX, minY, maxX, maxY)
	got := gdal(t, "", "ogrinfo", "-ro", "-q", "-sql", "SELECT id, external_id FROM cases", gpkg)
	var stored []string
	for _, m := range regexp.MustCompile(`(?m)^\s*id \(String\) = (\d+)$`).FindAllStringSubmatch(got, -1) {
		stored = append(stored, m[1])
	}
	_, page, _ := do(t, "GET", anon.URL+"/ogc/collections/cases/items?limit=1000&bbox="+strings.Join([]string{minX, minY, maxX, maxY}, ","), "", "", "Authorization", "Bearer "+token)
	want := featureIDs(page)
	slices.Sort(stored)
	slices.Sort(want)
	if len(want) != 7 || !slices.Equal(stored, want) {
		t.Errorf("the GeoPackage holds cases %v, the API answers %v for the box (want 7)\n%s", stored, want, got)
	}
	if !strings.Contains(got, "external_id (String) = x") {
		t.Errorf("the GeoPackage's cases have no external_id:\n%s", got)
	}
}
