package live_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/live"
)

// gridScope sees the cases of some grids.
type gridScope map[string]bool

func (s gridScope) Sees(c *cases.Case) bool { return s[c.Grid] }

// sidedTiles names the grids of each side of a change as its "tiles".
type sidedTiles struct{}

func (sidedTiles) CaseChanged(ch caseindex.Change) json.Marshaler {
	st := sidedStale{}
	if ch.Old != nil {
		st.old = ch.Old.Grid
	}
	if ch.New != nil {
		st.new = ch.New.Grid
	}
	return st
}

type sidedStale struct{ old, new string }

func (s sidedStale) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"old": s.old, "new": s.new})
}

func (s sidedStale) Side(old bool) json.Marshaler {
	if old {
		return sidedStale{old: s.old}
	}
	return sidedStale{new: s.new}
}

// quiet reports whether no event arrives within a short while.
func quiet(ch <-chan []byte) bool {
	select {
	case <-ch:
		return false
	case <-time.After(50 * time.Millisecond):
		return true
	}
}

// TestAudiences: a stream hears only of the cases in its scope, without
// titles unless it may read free text; a case re-assigned out of its scope
// is one "gone" event naming only where it was, one re-assigned into it
// names only where it is now.
func TestAudiences(t *testing.T) {
	h := live.New(caseindex.New(), live.Options{Tiles: sidedTiles{}, Store: &fakeFeed{}})
	defer h.Close()
	everyone, leave := h.Subscribe(live.Everyone)
	defer leave()
	g1, leave1 := h.Subscribe(live.Audience{Scope: gridScope{"G1": true}, FreeText: true})
	defer leave1()
	g1Plain, leave1p := h.Subscribe(live.Audience{Scope: gridScope{"G1": true}})
	defer leave1p()
	g2, leave2 := h.Subscribe(live.Audience{Scope: gridScope{"G2": true}, FreeText: true})
	defer leave2()

	c := newCase(1, cases.StatusReported)
	c.Title = "门口垃圾 13800000000"
	h.Changed(c)
	if msg := next(t, everyone); !strings.Contains(msg, `"title":"门口垃圾 13800000000"`) {
		t.Errorf("everyone: %q, want the title", msg)
	}
	if msg := next(t, g1); !strings.Contains(msg, `"id":"1"`) || !strings.Contains(msg, `"title":"门口垃圾`) {
		t.Errorf("G1: %q, want case 1 with its title", msg)
	}
	if msg := next(t, g1Plain); !strings.Contains(msg, `"id":"1"`) || strings.Contains(msg, "title") || strings.Contains(msg, "1380") {
		t.Errorf("G1 without free text: %q, want case 1 without a title", msg)
	}
	if !quiet(g2) {
		t.Error("G2 heard of a case in G1")
	}

	moved := *c
	moved.Grid, moved.Version = "G2", 2
	h.Changed(&moved)
	if msg := next(t, everyone); !strings.Contains(msg, `"old":"G1"`) || !strings.Contains(msg, `"new":"G2"`) {
		t.Errorf("everyone: %q, want both sides' tiles", msg)
	}
	for name, ch := range map[string]<-chan []byte{"G1": g1, "G1 without free text": g1Plain} {
		msg := next(t, ch)
		var ev map[string]any
		if err := json.Unmarshal([]byte(strings.TrimSuffix(strings.SplitN(msg, "data: ", 2)[1], "\n\n")), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["gone"] != true || ev["id"] != "1" || strings.Contains(msg, "G2") || strings.Contains(msg, "title") || ev["status"] != nil {
			t.Errorf("%s after the case left: %q, want gone, naming nothing of where it went", name, msg)
		}
		if tiles, _ := ev["tiles"].(map[string]any); tiles["old"] != "G1" {
			t.Errorf("%s: tiles %v, want where it was", name, ev["tiles"])
		}
	}
	if msg := next(t, g2); !strings.Contains(msg, `"grid":"G2"`) || strings.Contains(msg, "G1") || strings.Contains(msg, "gone") {
		t.Errorf("G2 after the case came in: %q, want the case, naming nothing of where it was", msg)
	}
	// Gone is said once: later changes elsewhere are not its to hear.
	moved.Version = 3
	h.Changed(&moved)
	if !quiet(g1) {
		t.Error("G1 heard again of a case that left it")
	}
	if msg := next(t, g2); !strings.Contains(msg, `"version":3`) || !strings.Contains(msg, `"new":"G2"`) || !strings.Contains(msg, `"old":"G2"`) {
		t.Errorf("G2: %q, want version 3 with both sides (both its own)", msg)
	}
	if err := h.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]<-chan []byte{"everyone": everyone, "G1": g1, "G2": g2} {
		for {
			msg := next(t, ch)
			if strings.HasPrefix(msg, "event: bulk\n") {
				break
			}
			if name != "everyone" && name != "G2" {
				t.Fatalf("%s: %q before the bulk event", name, msg)
			}
		}
	}
}
