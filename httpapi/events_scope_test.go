package httpapi_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"citygrid/access"
)

// TestEventStreamsAreScoped: a stream hears of the cases of its scope
// only: a case changed in street S2 never reaches street S1's stream; a
// case re-assigned out of S1 is one "gone" event there that does not say
// where it went; a planner's stream (opened with a ticket, as the page
// does) never carries a title.
func TestEventStreamsAreScoped(t *testing.T) {
	a := newScopedAPI(t)
	s1Token := a.key(access.Key{Role: access.RoleDispatcher, Scope: []string{"S1"}})
	s2Token := a.key(access.Key{Role: access.RoleDispatcher, Scope: []string{"S2"}})
	planner := a.key(access.Key{Role: access.RolePlanner, Scope: []string{"S1"}})
	s1 := a.openStream("", as(s1Token)...)
	s2 := a.openStream("", as(s2Token)...)
	plan := a.openStream("?ticket="+a.ticket(planner), "Authorization", noKey)
	all := a.openStream("", as(a.admin)...)

	const title = "张先生 13800138000 门口堆物"
	east := a.report("east", edgeG3, title)
	west := a.report("west", edgeG1, title)
	// Events arrive in order: S1's first event being the west case's
	// means the east case never reached it.
	for name, s := range map[string]*stream{"S1": s1, "planner": plan} {
		ev, data := s.next()
		if ev != "case" || data["id"] != west || data["grid"] != "G1" {
			t.Fatalf("%s: first event %s %v, want case %s (the east case %s is not its to hear)", name, ev, data, west, east)
		}
		if _, has := data["title"]; has != (name == "S1") {
			t.Errorf("%s: title shown %v, want %v (%v)", name, has, name == "S1", data)
		}
	}
	if _, data := s2.next(); data["id"] != east || data["title"] != title {
		t.Fatalf("S2: first event %v, want case %s with its title", data, east)
	}
	for _, want := range []string{east, west} {
		if _, data := all.next(); data["id"] != want {
			t.Fatalf("admin: event %v, want case %s", data, want)
		}
	}

	// West goes east: S1's streams see it leave, S2's see it come.
	a.must(http.StatusOK, "PATCH", "/v1/cases/"+west, `{"grid":"G3","note":"wrong street"}`, "If-Match", `"1"`)
	for name, s := range map[string]*stream{"S1": s1, "planner": plan} {
		ev, data := s.next()
		raw := fmt.Sprint(data)
		if ev != "case" || data["id"] != west || data["gone"] != true || strings.Contains(raw, "G3") || strings.Contains(raw, "S2") ||
			data["grid"] != nil || data["unit"] != nil || data["location"] != nil || data["title"] != nil {
			t.Errorf("%s: after the case left: %s %v, want {id, gone: true, tiles} only", name, ev, data)
		}
		if data["tiles"] == nil {
			t.Errorf("%s: the gone event names no tiles to refresh", name)
		}
	}
	if _, data := s2.next(); data["id"] != west || data["grid"] != "G3" || data["gone"] != nil {
		t.Errorf("S2: after the case came in: %v, want case %s in G3", data, west)
	}
	if _, data := all.next(); data["id"] != west || data["grid"] != "G3" {
		t.Errorf("admin: %v, want case %s in G3", data, west)
	}

	// Later changes of the case are S2's alone: S1 next hears of its own.
	a.must(http.StatusOK, "PATCH", "/v1/cases/"+west, `{"status":"accepted"}`, "If-Match", `"2"`)
	mine := a.report("west-2", edgeG2, title)
	if _, data := s1.next(); data["id"] != mine {
		t.Errorf("S1: %v, want its own new case %s (not the case that left)", data, mine)
	}
	if _, data := s2.next(); data["id"] != west || data["status"] != "accepted" {
		t.Errorf("S2: %v, want case %s accepted", data, west)
	}
}

// TestRevokedKeyEndsStream: a stream, opened with the key or with a
// ticket, ends (with an "end" event) within a few seconds of its key's
// revocation; another key's stream goes on.
func TestRevokedKeyEndsStream(t *testing.T) {
	a := newScopedAPI(t)
	var created struct{ ID, Token string }
	a.must(http.StatusCreated, "POST", "/v1/keys", `{"name":"wall screen","role":"viewer","scope":["S1"]}`).decode(t, &created)
	other := a.key(access.Key{Role: access.RoleViewer, Scope: []string{"S1"}})
	bearer := a.openStream("", as(created.Token)...)
	ticketed := a.openStream("?ticket="+a.ticket(created.Token), "Authorization", noKey)
	stays := a.openStream("", as(other)...)

	a.must(http.StatusOK, "DELETE", "/v1/keys/"+created.ID, "")
	revoked := time.Now()
	for name, s := range map[string]*stream{"bearer": bearer, "ticket": ticketed} {
		events, ended := s.ends(8 * time.Second)
		if !ended {
			t.Errorf("%s: the stream of a revoked key still open after 8 s", name)
			continue
		}
		if !slices.Contains(events, "end") {
			t.Errorf("%s: the stream ended with events %v, want an end event", name, events)
		}
	}
	t.Logf("streams ended %s after the revocation", time.Since(revoked).Round(100*time.Millisecond))
	// The other key's stream still hears of its cases.
	id := a.report("after", edgeG1, "")
	if _, data := stays.next(); data["id"] != id {
		t.Errorf("the other key's stream: %v, want case %s", data, id)
	}
	// And the revoked key opens no new one.
	if r, _ := a.request("GET", "/v1/events", "", as(created.Token)...); r.status != http.StatusUnauthorized {
		t.Errorf("a revoked key's new stream: %d, want 401", r.status)
	}
}
