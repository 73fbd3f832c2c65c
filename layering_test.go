package citygrid_test

import (
	"os/exec"
	"strings"
	"testing"
)

// tiers is the layering the README describes: a package may import the
// citygrid packages of lower tiers only, so packages of one tier never
// import each other (each declares the small interface it needs, and the
// binary wires them). Every package of the module must be listed.
var tiers = [][]string{
	{"citygrid", "geo", "migrations", "web", "internal/pglocal", "internal/strictjson",
		"position"}, // change feed positions (issue 14)
	{"grid", "hotspot"},
	{"cases"},
	{"caseindex", "access", "campaign", "bulletin", "open311", "project"},
	{"analysis", "live", "tiles", "postgres", "snapshot"},
	{"internal/app", "demo", "internal/dbtest", "internal/open311check"},
	{"httpapi"},
	{"cmd/citygrid", "deploy", "internal/bench", "tools/shibeidata"},
}

// TestLayering checks every import of the module's (non-test) code
// against tiers, with go list.
func TestLayering(t *testing.T) {
	tierOf := map[string]int{}
	for i, pkgs := range tiers {
		for _, p := range pkgs {
			path := "citygrid/" + p
			if p == "citygrid" {
				path = p // the module root
			}
			tierOf[path] = i
		}
	}
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		from, ok := tierOf[pkg]
		if !ok {
			t.Errorf("package %s is in no tier: add it to tiers here and to the README's layering", pkg)
			continue
		}
		for _, imp := range imports {
			if imp != "citygrid" && !strings.HasPrefix(imp, "citygrid/") {
				continue
			}
			if to := tierOf[imp]; to >= from {
				t.Errorf("%s (tier %d) imports %s (tier %d): imports point to lower tiers only", pkg, from, imp, to)
			}
		}
	}
}
