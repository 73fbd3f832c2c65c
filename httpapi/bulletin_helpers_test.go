package httpapi_test

import (
	"fmt"
	"net/http"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"citygrid/httpapi"
	"citygrid/internal/app"
	"citygrid/postgres"
)

// withCampaigns gives a test server campaigns and bulletins (issue 18) on
// the test's transaction, with its clock.
func withCampaigns(d *httpapi.Deps, tx pgx.Tx) {
	cs := postgres.NewCaseStore(tx)
	d.Campaigns = postgres.NewCampaignStore(tx)
	d.Bulletins = app.NewBulletins(app.BulletinDeps{Cases: cs, Stats: cs, Hotspots: cs, Campaigns: d.Campaigns,
		Store: postgres.NewBulletinStore(tx), Locator: d.Index.Locator, Now: d.Now, Serial: true})
}

// issue18Rows are the access matrix's rows of campaigns and bulletins
// (issue 18), with their fixtures made as the admin: a campaign over S1
// (the scoped keys' street) with two sites, one over S2, and stored daily
// bulletins of the district, S1 and unit U1 for the day before tileNow.
func issue18Rows(a *accessAPI) []matrixRow {
	a.t.Helper()
	mk := func(grids string) string {
		r := a.post("/v1/campaigns", fmt.Sprintf(`{"name":"整治 %s","categories":["E01"],"grids":[%q],"starts_at":"2026-11-13T00:00:00Z",
			"ends_at":"2026-12-03T00:00:00Z","target":{"kind":"inspect_sites","value":0.9}}`, grids, grids))
		if r.status != http.StatusCreated {
			a.t.Fatalf("make campaign: %d %s", r.status, r.body)
		}
		var k struct{ ID string }
		r.decode(a.t, &k)
		return k.ID
	}
	in, out := mk("S1"), mk("S2")
	sites := func(ref string, p orb.Point) string {
		return fmt.Sprintf("ref,name,lng,lat,category\n%s,点位,%v,%v,E0101\n", ref, p[0], p[1])
	}
	csvType := []string{"Content-Type", "text/csv"}
	for _, k := range []struct {
		id string
		p  orb.Point
	}{{in, inG1}, {out, inG3}} {
		r := a.send(asAdmin, http.MethodPost, "/v1/campaigns/"+k.id+"/sites", sites("s1", k.p), csvType...)
		if r.status != http.StatusCreated {
			a.t.Fatalf("add sites: %d %s", r.status, r.body)
		}
	}
	day := "2026-11-22"
	for _, scope := range []string{"district", "street:S1", "street:S2", "unit:U1"} {
		if r := a.post("/v1/bulletins/daily/"+scope+"/"+day, ""); r.status != http.StatusCreated {
			a.t.Fatalf("generate bulletin %s: %d %s", scope, r.status, r.body)
		}
	}
	newCampaign := func(area string) string {
		return `{"name":"新","categories":["E01"],` + area + `,"starts_at":"2026-11-20T00:00:00Z","ends_at":"2026-11-30T00:00:00Z","target":{"kind":"on_time_rate","value":0.95}}`
	}
	polygon := fmt.Sprintf(`"area":{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`, x0, y0, x0+0.005, y0, x0+0.005, y0+0.005, x0, y0)
	b := "/v1/bulletins/daily/"
	return []matrixRow{
		// Campaigns: read by every person's role; made and run by
		// dispatchers in their scope; sites inspected by inspectors too.
		{route: "GET /v1/campaigns", method: "GET", path: "/v1/campaigns", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "POST /v1/campaigns", name: "in", method: "POST", path: "/v1/campaigns", body: newCampaign(`"grids":["S1"]`),
			want: byRole(401, 201, 201, 403, 403, 403, 403, 403)},
		{route: "POST /v1/campaigns", name: "out", method: "POST", path: "/v1/campaigns", body: newCampaign(`"grids":["S2"]`),
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/campaigns", name: "polygon", method: "POST", path: "/v1/campaigns", body: newCampaign(polygon),
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "GET /v1/campaigns/{id}", method: "GET", path: "/v1/campaigns/" + in, want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "GET /v1/campaigns/{id}/stats", method: "GET", path: "/v1/campaigns/" + in + "/stats?by=unit", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "GET /v1/campaigns/{id}/sites", method: "GET", path: "/v1/campaigns/" + in + "/sites", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "POST /v1/campaigns/{id}/sites", name: "in", method: "POST", path: "/v1/campaigns/" + in + "/sites", body: sites("s2", inG1), header: csvType,
			want: byRole(401, 201, 201, 403, 403, 403, 403, 403)},
		{route: "POST /v1/campaigns/{id}/sites", name: "out", method: "POST", path: "/v1/campaigns/" + out + "/sites", body: sites("s2", inG3), header: csvType,
			want: byRole(401, 201, 403, 403, 403, 403, 403, 403)},
		{route: "POST /v1/campaigns/{id}/sites/{ref}/inspection", name: "pass", method: "POST", path: "/v1/campaigns/" + in + "/sites/s1/inspection",
			body: `{"result":"pass"}`, want: byRole(401, 200, 200, 403, 200, 403, 403, 403)},
		{route: "POST /v1/campaigns/{id}/sites/{ref}/inspection", name: "fail (reports a case)", method: "POST", path: "/v1/campaigns/" + in + "/sites/s1/inspection",
			body: `{"result":"fail","note":"垃圾未清"}`, want: byRole(401, 200, 200, 403, 200, 403, 403, 403)},
		{route: "POST /v1/campaigns/{id}/sites/{ref}/inspection", name: "out", method: "POST", path: "/v1/campaigns/" + out + "/sites/s1/inspection",
			body: `{"result":"pass"}`, want: byRole(401, 200, 403, 403, 403, 403, 403, 403)},

		// Bulletins: a scope's bulletins are read within it (the district's
		// by the whole district only, a unit's by its handler); beside it
		// they do not exist.
		{route: "GET /v1/bulletins", method: "GET", path: "/v1/bulletins", want: byRole(401, 200, 200, 200, 200, 200, 200, 403)},
		{route: "GET /v1/bulletins/{kind}/{scope}/{period}", name: "district", method: "GET", path: b + "district/" + day,
			want: byRole(401, 200, 404, 404, 404, 404, 404, 403)},
		{route: "GET /v1/bulletins/{kind}/{scope}/{period}", name: "street in", method: "GET", path: b + "street:S1/" + day + "?format=csv",
			want: byRole(401, 200, 200, 404, 200, 200, 200, 403)},
		{route: "GET /v1/bulletins/{kind}/{scope}/{period}", name: "street out", method: "GET", path: b + "street:S2/" + day, hide: "S2", absent: "NOPE",
			want: byRole(401, 200, 404, 404, 404, 404, 404, 403)},
		{route: "GET /v1/bulletins/{kind}/{scope}/{period}", name: "unit", method: "GET", path: b + "unit:U1/" + day + "?format=html",
			want: byRole(401, 200, 404, 200, 404, 404, 404, 403)},
		{route: "POST /v1/bulletins/{kind}/{scope}/{period}", name: "in", method: "POST", path: b + "street:S1/2026-11-21",
			want: byRole(401, 201, 201, 403, 403, 403, 403, 403)},
		{route: "POST /v1/bulletins/{kind}/{scope}/{period}", name: "out", method: "POST", path: b + "street:S2/2026-11-21", hide: "S2", absent: "NOPE",
			want: byRole(401, 201, 404, 403, 403, 403, 403, 403)},
		{route: "POST /v1/bulletins/{kind}/{scope}/{period}/corrections", method: "POST", path: b + "street:S1/" + day + "/corrections",
			body: `{"reason":"补录案件"}`, want: byRole(401, 201, 201, 403, 403, 403, 403, 403)},
	}
}
