package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"citygrid/cases"
	"citygrid/grid"
	"citygrid/httpapi"
	"citygrid/internal/dbtest"
	"citygrid/postgres"
)

// flow is a case server over the small district whose clock the test
// moves, for the steps of a case that happen at different times.
type flow struct {
	t     *testing.T
	url   string
	tx    pgx.Tx
	clock time.Time
}

func newFlow(t *testing.T, start time.Time) *flow {
	t.Helper()
	f := &flow{t: t, tx: dbtest.Tx(t), clock: start}
	ctx := context.Background()
	grids := postgres.NewGridStore(f.tx)
	if _, _, err := grids.UpsertUnits(ctx, []grid.Unit{{Code: "U1", Name: "城管局"}, {Code: "U2", Name: "居委会"}}); err != nil {
		t.Fatal(err)
	}
	inputs, err := grid.ParseFeatureCollection(strings.NewReader(fcJSON(district())))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := grids.ImportGrids(ctx, inputs, grid.ImportOptions{}); err != nil || !res.Committed {
		t.Fatalf("import: %+v %v", res, err)
	}
	index := grid.NewIndex(grid.LocatorOptions{})
	if err := index.Rebuild(ctx, grids); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewCaseStore(f.tx)
	deps := httpapi.Deps{
		Grids: grids, Cases: store, Stats: store, Index: index,
		Now:    func() time.Time { return f.clock },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	token := withKeys(t, f.tx, &deps)
	srv := httptest.NewServer(authed(token, httpapi.New(httpapi.Config{MaxBodyBytes: 64 << 10}, deps)))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

// create reports an exposed-garbage case (4 working hours) at the clock's
// time in grid G3 and returns its id.
func (f *flow) create(extID string) string {
	f.t.Helper()
	body := fmt.Sprintf(`{"source":"hotline","external_id":%q,"category":"E0101","location":[%v,%v]}`, extID, x0+0.015, y0+0.005)
	code, out, _ := do(f.t, "POST", f.url+"/v1/cases", "application/json", body)
	if code != 201 {
		f.t.Fatalf("create %s = %d %v", extID, code, out)
	}
	return out["id"].(string)
}

// patch sends body with the case's current version and returns the reply.
func (f *flow) patch(id, body string) (int, map[string]any) {
	f.t.Helper()
	_, c, h := do(f.t, "GET", f.url+"/v1/cases/"+id, "", "")
	if c == nil {
		f.t.Fatalf("case %s not found", id)
	}
	code, out, _ := do(f.t, "PATCH", f.url+"/v1/cases/"+id, "application/json", body, "If-Match", h.Get("ETag"))
	return code, out
}

func (f *flow) mustPatch(id, body string) map[string]any {
	f.t.Helper()
	code, out := f.patch(id, body)
	if code != 200 {
		f.t.Fatalf("PATCH %s = %d %v", body, code, out)
	}
	return out["properties"].(map[string]any)
}

// refused checks that body is refused with status, the problem naming
// field, and that the case did not change.
func (f *flow) refused(id, body string, status int, field, detail string) {
	f.t.Helper()
	_, before, _ := do(f.t, "GET", f.url+"/v1/cases/"+id, "", "")
	code, out := f.patch(id, body)
	d, _ := out["detail"].(string)
	if code != status || !strings.Contains(d, detail) || (field != "" && out["field"] != field) {
		f.t.Errorf("PATCH %s = %d %v, want %d with field %q and %q", body, code, out, status, field, detail)
	}
	if _, after, _ := do(f.t, "GET", f.url+"/v1/cases/"+id, "", ""); !equalJSON(before, after) {
		f.t.Errorf("refused PATCH %s changed the case", body)
	}
}

// history returns the case's events.
func (f *flow) history(id string) []map[string]any {
	f.t.Helper()
	code, out, _ := do(f.t, "GET", f.url+"/v1/cases/"+id+"/history", "", "")
	if code != 200 {
		f.t.Fatalf("history = %d %v", code, out)
	}
	var events []map[string]any
	for _, e := range out["events"].([]any) {
		events = append(events, e.(map[string]any))
	}
	return events
}

// last returns the last event of the case of the kind given.
func (f *flow) last(id, kind string) map[string]any {
	f.t.Helper()
	h := f.history(id)
	for i := len(h) - 1; i >= 0; i-- {
		if h[i]["kind"] == kind {
			return h[i]
		}
	}
	f.t.Fatalf("case %s has no %s event: %v", id, kind, h)
	return nil
}

// stored reads the moments and the pending request kept on the case.
func (f *flow) stored(id string) (overdue *time.Time, pending *string) {
	f.t.Helper()
	if err := f.tx.QueryRow(context.Background(), `SELECT overdue_at, pending_request::text FROM cases WHERE id = $1`, id).Scan(&overdue, &pending); err != nil {
		f.t.Fatal(err)
	}
	return overdue, pending
}

// TestCaseRequestsAPI: a handler asks for an extension before the
// deadline, the dispatcher approves it after the deadline (the case was
// never overdue), a second request is declined after the new deadline
// (overdue from the decline); what cannot be asked or decided is a 4xx
// naming the field.
func TestCaseRequestsAPI(t *testing.T) {
	utc := func(h, m int) time.Time { return time.Date(2026, 11, 23, h, m, 0, 0, time.UTC) } // Monday; 09:00 in Shanghai is 01:00
	f := newFlow(t, utc(1, 0))
	id := f.create("req-1") // due 13:00 in Shanghai, 05:00 UTC
	for _, st := range []string{"accepted", "dispatched", "in_progress"} {
		f.mustPatch(id, `{"status":"`+st+`"}`)
	}

	f.clock = utc(2, 0)
	p := f.mustPatch(id, `{"request_extension":{"value":2,"unit":"working_hours"},"note":"需协调燃气公司"}`)
	if p["version"] != float64(5) || p["due_at"] != "2026-11-23T05:00:00Z" {
		t.Errorf("after the request: version %v due %v", p["version"], p["due_at"])
	}
	asked := f.last(id, "extension_requested")
	reqID, _ := asked["id"].(string)
	if reqID == "" || asked["note"] != "需协调燃气公司" || !equalJSON(asked["data"], map[string]any{"value": 2, "unit": "working_hours"}) {
		t.Fatalf("request event = %v", asked)
	}
	if _, pending := f.stored(id); pending == nil || !strings.Contains(*pending, `"event": `+reqID) {
		t.Errorf("pending request stored = %v, want event %s", pending, reqID)
	}
	if pending, _ := p["pending_request"].(map[string]any); pending["event"] != reqID || pending["kind"] != "extension" {
		t.Errorf("pending_request in the reply = %v, want event %s", p["pending_request"], reqID)
	}
	f.refused(id, `{"request_pause":true}`, 422, "request_pause", "awaiting a decision (event "+reqID+")")
	f.refused(id, `{"extend":{"value":1,"unit":"working_days"}}`, 422, "extend", "approve or decline it first")

	// Past the deadline, the request still waits: the case is overdue
	// now (the dispatcher's cue) but has not run past its deadline.
	f.clock = utc(6, 0)
	_, c, _ := do(t, "GET", f.url+"/v1/cases/"+id, "", "")
	if c["properties"].(map[string]any)["overdue_now"] != true {
		t.Error("a case past its deadline awaiting a decision is not overdue now")
	}
	if overdue, _ := f.stored(id); overdue != nil {
		t.Errorf("awaiting a decision, the case ran past its deadline at %v", overdue)
	}
	f.refused(id, `{"approve":"`+reqID+`","decline":"`+reqID+`"}`, 400, "decline", "exclude each other")
	f.refused(id, `{"approve":`+reqID+`}`, 400, "approve", "approve")
	f.refused(id, `{"approve":"abc"}`, 400, "approve", `"abc" is not a request's event id`)
	f.refused(id, `{"approve":"1"}`, 422, "approve", "event 1 is not the request of case "+id)
	p = f.mustPatch(id, `{"approve":"`+reqID+`","note":"同意延期"}`)
	if p["due_at"] != "2026-11-23T07:00:00Z" || p["overdue_now"] != false {
		t.Errorf("approved after the deadline: due %v overdue_now %v, want 15:00 in Shanghai and not overdue", p["due_at"], p["overdue_now"])
	}
	ext := f.last(id, "extend")
	data := ext["data"].(map[string]any)
	if data["request"] != mustFloat(t, reqID) || data["due_from"] != "2026-11-23T05:00:00Z" || ext["note"] != "同意延期" {
		t.Errorf("approval event = %v", ext)
	}
	if overdue, pending := f.stored(id); pending != nil || overdue == nil || !overdue.Equal(utc(7, 0)) {
		t.Errorf("after the approval: overdue at %v, pending %v; want 07:00 and none", overdue, pending)
	}
	f.refused(id, `{"decline":"`+reqID+`"}`, 422, "decline", "has no request awaiting a decision")

	// Parking asked for, declined after the (new) deadline.
	f.clock = utc(6, 30)
	f.mustPatch(id, `{"request_pause":true,"note":"等待配件"}`)
	pauseID := f.last(id, "pause_requested")["id"].(string)
	f.clock = utc(8, 0)
	f.mustPatch(id, `{"decline":"`+pauseID+`"}`)
	if d := f.last(id, "declined")["data"].(map[string]any); d["request"] != mustFloat(t, pauseID) || d["kind"] != "pause" {
		t.Errorf("declined event data = %v", d)
	}
	if overdue, pending := f.stored(id); pending != nil || overdue == nil || !overdue.Equal(utc(8, 0)) {
		t.Errorf("after the decline: overdue at %v, pending %v; want 08:00 (the decline) and none", overdue, pending)
	}
	f.refused(id, `{"request_extension":{"value":1,"unit":"working_days"}}`, 422, "request_extension", "was due at 2026-11-23T15:00:00+08:00")

	// Bad requests on a fresh case.
	f.clock = utc(1, 0)
	id2 := f.create("req-2")
	f.refused(id2, `{"request_extension":{"value":0,"unit":"working_days"}}`, 400, "request_extension", "1 to 1000")
	f.refused(id2, `{"request_extension":{"value":1,"unit":"fortnights"}}`, 400, "request_extension", "1 to 1000")
	f.refused(id2, `{"request_pause":false}`, 400, "request_pause", "false asks for nothing")
	f.refused(id2, `{"request_pause":true,"approve":"3"}`, 400, "approve", "cannot go with request_pause")
	f.refused(id2, `{"approve":"3"}`, 422, "approve", "has no request awaiting a decision")
}

func mustFloat(t *testing.T, s string) float64 {
	t.Helper()
	var v float64
	if _, err := fmt.Sscan(s, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCaseReturnAPI: a handler returns (退单) a dispatched or started case
// to the dispatcher with "returned": true; the history counts the returns;
// a return asked for wrongly is a 4xx naming the field.
func TestCaseReturnAPI(t *testing.T) {
	f := newFlow(t, time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC))
	id := f.create("ret-1")
	f.mustPatch(id, `{"status":"accepted"}`)
	f.refused(id, `{"status":"accepted","returned":true}`, 422, "returned", "is accepted: a case is returned (退单) from dispatched, in_progress")
	f.mustPatch(id, `{"status":"dispatched"}`)
	f.refused(id, `{"status":"accepted"}`, 422, "", `add "returned": true`)
	f.refused(id, `{"returned":true}`, 400, "returned", `give "status": "accepted"`)
	f.refused(id, `{"status":"in_progress","returned":true}`, 400, "returned", `give "status": "accepted"`)
	f.refused(id, `{"status":"accepted","returned":false}`, 400, "returned", "false asks for nothing")
	p := f.mustPatch(id, `{"status":"accepted","returned":true,"note":"不属于本单位职责"}`)
	if p["status"] != "accepted" || !slices.Equal(p["next_statuses"].([]any), []any{"dispatched"}) {
		t.Errorf("returned case: %v", p)
	}
	f.mustPatch(id, `{"status":"dispatched"}`)
	f.mustPatch(id, `{"status":"in_progress"}`)
	f.mustPatch(id, `{"status":"accepted","returned":true,"note":"再次退单"}`)
	var events []cases.Event
	for _, e := range f.history(id) {
		events = append(events, cases.Event{Kind: e["kind"].(string)})
		if e["kind"] == "returned" && (e["to"] != "accepted" || (e["from"] != "dispatched" && e["from"] != "in_progress")) {
			t.Errorf("return event %v", e)
		}
	}
	if n := cases.Returns(events); n != 2 {
		t.Errorf("returns = %d, want 2", n)
	}
	f.mustPatch(id, `{"status":"dispatched"}`)
	f.mustPatch(id, `{"status":"in_progress"}`)
	f.mustPatch(id, `{"status":"resolved"}`)
	f.refused(id, `{"status":"accepted","returned":true}`, 422, "returned", "is resolved")
}

// TestHistoryEventIDs: every event but the creation carries its id, as a
// decimal string, the form approve and decline take.
func TestHistoryEventIDs(t *testing.T) {
	f := newFlow(t, time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC))
	id := f.create("ids-1")
	f.mustPatch(id, `{"status":"accepted"}`)
	f.mustPatch(id, `{"status":"dispatched"}`)
	h := f.history(id)
	if _, ok := h[0]["id"]; ok || h[0]["kind"] != "create" {
		t.Errorf("creation = %v, want no id", h[0])
	}
	prev := 0.0
	for _, e := range h[1:] {
		s, ok := e["id"].(string)
		if !ok || mustFloat(t, s) <= prev {
			t.Errorf("event %v: id not a rising decimal string", e)
			continue
		}
		prev = mustFloat(t, s)
	}
}

// TestStatusesListActions: GET /v1/statuses names every action, the
// statuses each moves a case from and to, and each status's actions.
func TestStatusesListActions(t *testing.T) {
	f := newFlow(t, time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC))
	code, out, _ := do(t, "GET", f.url+"/v1/statuses", "", "")
	if code != 200 {
		t.Fatalf("statuses = %d %v", code, out)
	}
	var names []string
	for _, a := range out["actions"].([]any) {
		a := a.(map[string]any)
		names = append(names, a["action"].(string))
		switch a["action"] {
		case "return":
			if !equalJSON(a, map[string]any{"action": "return", "from": []string{"dispatched", "in_progress"}, "to": "accepted"}) {
				t.Errorf("return = %v", a)
			}
		case "send_back":
			if !equalJSON(a, map[string]any{"action": "send_back", "from": []string{"resolved"}, "to": "dispatched"}) {
				t.Errorf("send_back = %v", a)
			}
		case "approve":
			if !equalJSON(a, map[string]any{"action": "approve", "from": []string{}, "to": nil}) {
				t.Errorf("approve = %v", a)
			}
		}
	}
	var want []string
	for _, a := range cases.Actions {
		want = append(want, string(a))
	}
	if !slices.Equal(names, want) {
		t.Errorf("actions %v, want %v", names, want)
	}
	for _, st := range out["statuses"].([]any) {
		st := st.(map[string]any)
		var want []any
		switch st["status"] {
		case "dispatched":
			want = []any{"start", "return"}
		case "resolved":
			want = []any{"verify", "send_back"}
		case "closed":
			want = []any{}
		default:
			continue
		}
		if !slices.Equal(st["actions"].([]any), want) {
			t.Errorf("%s actions %v, want %v", st["status"], st["actions"], want)
		}
	}
}
