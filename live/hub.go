package live

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"citygrid/caseindex"
	"citygrid/cases"
)

// Store is where the hub reads cases that changed elsewhere.
type Store interface {
	FindCaseByID(ctx context.Context, id int64) (*cases.Case, error)
	LoadCaseIndex(ctx context.Context, x *caseindex.Index) error
}

// Tiles drops the cached tiles a change makes stale and describes them
// for clients (package tiles' Service: CaseChanged returns tiles.Stale).
type Tiles interface {
	CaseChanged(caseindex.Change) json.Marshaler
}

// Hub applies case changes to the case index, the tiles and the event
// streams. Safe for concurrent use.
type Hub struct {
	index  *caseindex.Index
	store  Store // nil: reloads only tell the tiles and streams
	tiles  Tiles // nil: no tiles to keep
	now    func() time.Time
	logger *slog.Logger
	events broker

	ctx    context.Context // ends reloads on Close
	cancel context.CancelFunc

	reloadMu  sync.Mutex
	reloading bool // a reload runs
	again     bool // and another was asked for meanwhile
	reloads   sync.WaitGroup
}

// Options are the hub's collaborators; Store, Tiles, Now and Logger may be
// left out.
type Options struct {
	Store  Store
	Tiles  Tiles
	Now    func() time.Time
	Logger *slog.Logger
}

// New returns a hub keeping index current.
func New(index *caseindex.Index, o Options) *Hub {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := &Hub{index: index, store: o.Store, tiles: o.Tiles, now: o.Now, logger: o.Logger}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// Index returns the case index the hub keeps.
func (h *Hub) Index() *caseindex.Index { return h.index }

// Changed applies a case created or changed (here or elsewhere): the index
// has it and the stale tiles are gone before Changed returns, so every later
// read of this process shows it; then the streams hear of it, each as its
// audience may (see Audience).
func (h *Hub) Changed(c *cases.Case) {
	ch, err := h.index.Apply(caseindex.EntryOf(c))
	if err != nil {
		h.logger.Error("case index", "case", c.ID, "err", err)
		return
	}
	var stale json.Marshaler
	if h.tiles != nil {
		stale = h.tiles.CaseChanged(ch)
	}
	now := h.now()
	id, at := strconv.FormatInt(c.ID, 10), now.UTC().Format(time.RFC3339)
	ev := caseEvent{
		ID: id, Status: c.Status, Category: c.Category,
		Grid: c.Grid, Unit: c.Unit, Location: [2]float64{c.Location[0], c.Location[1]}, Version: c.Version,
		OverdueNow: c.Overdue(now), ReportedAt: c.ReportedAt.UTC().Format(time.RFC3339), At: at,
		Tiles: stale,
	}
	var was *cases.Case // the case as the index had it: where it was
	if ch.Old != nil {
		was = &cases.Case{ID: c.ID, Grid: ch.Old.Grid, Unit: ch.Old.Unit, Source: ch.Old.Source}
	}
	side := func(old bool) json.Marshaler {
		if sd, ok := stale.(sided); ok {
			return sd.Side(old)
		}
		return nil // no way to tell the sides apart: name no tiles
	}
	// The encodings, made once each as a stream first needs them.
	const (
		whole = iota // the change as it is, with the title
		wholeNoText
		entered // the case came into the scope: the new side's tiles only
		enteredNoText
		gone
	)
	var msgs [5][]byte
	msg := func(kind int) []byte {
		if msgs[kind] == nil {
			e := ev
			switch kind {
			case gone:
				msgs[kind] = encode("case", goneEvent{ID: id, Gone: true, At: at, Tiles: side(true)})
				return msgs[kind]
			case entered, enteredNoText:
				e.Tiles = side(false)
			}
			if kind == whole || kind == entered {
				e.Title = &c.Title
			}
			msgs[kind] = encode("case", e)
		}
		return msgs[kind]
	}
	h.events.fanOut(func(a Audience) []byte {
		seesNew := a.Scope == nil || a.Scope.Sees(c)
		seesOld := was != nil && (a.Scope == nil || a.Scope.Sees(was))
		text := 0
		if !a.FreeText {
			text = 1
		}
		switch {
		case seesNew && (was == nil || seesOld):
			return msg(whole + text)
		case seesNew:
			return msg(entered + text)
		case seesOld:
			return msg(gone)
		}
		return nil // never in its scope: not a word of it
	})
}

// sided is a change's stale tiles told apart by side (tiles.Stale).
type sided interface {
	Side(old bool) json.Marshaler
}

// ChangedElsewhere applies case id, which another process created or
// changed; a case that cannot be read makes a reload.
func (h *Hub) ChangedElsewhere(ctx context.Context, id int64) {
	c, err := h.store.FindCaseByID(ctx, id)
	if err != nil {
		h.Reload()
		return
	}
	h.Changed(c)
}

// Reload re-reads the whole case index in the background (after a bulk
// ingest, here or elsewhere, or a lost connection to other processes'
// announcements), then drops every tile and sends a "bulk" event. Reloads
// are coalesced: one runs at a time, and requests during it cause one more.
func (h *Hub) Reload() {
	h.reloadMu.Lock()
	defer h.reloadMu.Unlock()
	if h.reloading {
		h.again = true
		return
	}
	h.reloading = true
	h.reloads.Add(1)
	go h.reloadLoop()
}

func (h *Hub) reloadLoop() {
	defer h.reloads.Done()
	for {
		if h.store != nil {
			if err := h.store.LoadCaseIndex(h.ctx, h.index); err != nil && h.ctx.Err() == nil {
				h.logger.Error("reloading case index", "err", err)
			}
		}
		if h.tiles != nil {
			h.tiles.CaseChanged(caseindex.Change{Reset: true})
		}
		h.events.publish("bulk", map[string]string{"at": h.now().UTC().Format(time.RFC3339)})
		h.reloadMu.Lock()
		if !h.again || h.ctx.Err() != nil {
			h.reloading = false
			h.reloadMu.Unlock()
			return
		}
		h.again = false
		h.reloadMu.Unlock()
	}
}

// Scope is the part of the district a stream may hear of
// (*access.Scope).
type Scope interface {
	Sees(*cases.Case) bool
}

// Audience is who a stream is for. A stream hears of a case change only
// when it may see the case as it is or as it was: a case that enters its
// scope comes with the tiles of where it is now, one that leaves it (is
// re-assigned away) is one event {"id", "gone": true, "at", "tiles"} with
// the tiles of where it was, so that the client drops it without learning
// where it went. Bulk events reach every stream.
type Audience struct {
	// Scope decides which cases the stream hears of; nil: every case.
	Scope Scope
	// FreeText lets the stream read what reporters wrote (a case's
	// title); without it the title is left out.
	FreeText bool
}

// Everyone is the audience that hears every case, with its title.
var Everyone = Audience{FreeText: true}

// Subscribe returns a stream of encoded server-sent events for a, closed
// when the client lags too far behind or the hub closes, and a function to
// leave.
func (h *Hub) Subscribe(a Audience) (<-chan []byte, func()) { return h.events.subscribe(a) }

// Close ends the event streams (a graceful shutdown need not wait for
// them) and any reload in flight.
func (h *Hub) Close() {
	h.events.close()
	h.cancel()
	h.reloads.Wait()
}

// caseEvent is the data of a "case" event.
type caseEvent struct {
	ID         string         `json:"id"`
	Status     cases.Status   `json:"status"`
	Category   string         `json:"category"`
	Title      *string        `json:"title,omitempty"` // for audiences that may read free text
	Grid       string         `json:"grid"`
	Unit       string         `json:"unit"`
	Location   [2]float64     `json:"location"` // WGS84 [lng, lat]
	Version    int            `json:"version"`
	OverdueNow bool           `json:"overdue_now"` // open and past its deadline at At
	ReportedAt string         `json:"reported_at"`
	At         string         `json:"at"`
	Tiles      json.Marshaler `json:"tiles,omitempty"` // what the change made stale, per layer
}

// goneEvent is the data of a "case" event telling a stream that a case
// left its scope.
type goneEvent struct {
	ID    string         `json:"id"`
	Gone  bool           `json:"gone"`
	At    string         `json:"at"`
	Tiles json.Marshaler `json:"tiles,omitempty"` // where it was: what to refresh
}
