package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"citygrid/cases"
)

// TestCaseRequestStored: a request is kept on the case with the id of its
// event, read back by every case query, kept through other changes, and
// cleared when it lapses.
func TestCaseRequestStored(t *testing.T) {
	t.Parallel()
	e := newCaseEnv(t)
	ctx := context.Background()
	c, _, err := e.cases.CreateCase(ctx, e.prepare(t, input("app", "q-1", "E0101", 120.355, 36.075)), "")
	if err != nil {
		t.Fatal(err)
	}
	update := func(version int, u cases.Update) *cases.Case {
		t.Helper()
		u.IfVersion, u.Now, u.Calendar, u.Actor = version, testNow.Add(time.Duration(version)*time.Minute), e.cal, "h"
		got, err := e.cases.UpdateCase(ctx, c.ID, u)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	asked := update(1, cases.Update{RequestExtension: &cases.TimeLimit{Value: 2, Unit: cases.WorkingHours}})
	events, err := e.cases.CaseHistory(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := events[len(events)-1]
	if last.Kind != cases.EventExtensionRequested || last.ID == 0 {
		t.Fatalf("last event = %+v", last)
	}
	want := cases.Request{Event: last.ID, Kind: cases.RequestExtension, At: testNow.Add(time.Minute),
		Extension: &cases.TimeLimit{Value: 2, Unit: cases.WorkingHours}}
	found, err := e.cases.FindCaseByID(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := e.cases.FindCases(ctx, cases.Filter{Area: cases.Area{Bound: &orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}}, Limit: 10, Now: testNow})
	if err != nil || len(list) != 1 {
		t.Fatalf("FindCases = %d cases, %v", len(list), err)
	}
	for name, got := range map[string]*cases.Case{"UpdateCase": asked, "FindCaseByID": found, "FindCases": list[0]} {
		if !sameRequest(got.Request, &want) {
			t.Errorf("%s: request %+v, want %+v", name, got.Request, want)
		}
	}

	// Status changes leave it pending while the case is open; resolving
	// it makes the request lapse.
	for i, st := range []cases.Status{cases.StatusAccepted, cases.StatusDispatched, cases.StatusInProgress} {
		if got := update(2+i, cases.Update{Status: &st}); !sameRequest(got.Request, &want) {
			t.Errorf("after %s: request %+v", st, got.Request)
		}
	}
	resolved := cases.StatusResolved
	if got := update(5, cases.Update{Status: &resolved}); got.Request != nil {
		t.Errorf("after resolution: request %+v", got.Request)
	}
	var stored *string
	if err := e.tx.QueryRow(ctx, `SELECT pending_request::text FROM cases WHERE id = $1`, c.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	} else if stored != nil {
		t.Errorf("pending_request = %s, want NULL", *stored)
	}
	events, _ = e.cases.CaseHistory(ctx, c.ID)
	var lapsed struct {
		Request int64 `json:"request"`
		Because string
	}
	last = events[len(events)-1]
	if err := json.Unmarshal(last.Data, &lapsed); err != nil || last.Kind != cases.EventLapsed || lapsed.Request != want.Event || lapsed.Because != "resolved" {
		t.Errorf("last event %s %s, want lapsed naming request %d", last.Kind, last.Data, want.Event)
	}
}

func sameRequest(a, b *cases.Request) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
