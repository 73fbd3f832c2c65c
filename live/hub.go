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

// Store is the change feed the hub follows (package postgres' CaseStore):
// positions are those of package position.
type Store interface {
	// ReadChanges returns the ids of the cases changed from position from
	// up to the feed's horizon, and that horizon; gap reports that changes
	// from from on may be gone from the log (pruned, or another database).
	ReadChanges(ctx context.Context, from uint64) (ids []int64, horizon uint64, gap bool, err error)
	// FindCasesByID reads the cases of ids as they are now.
	FindCasesByID(ctx context.Context, ids []int64) ([]*cases.Case, error)
	// LoadCases reads every case into a new index, with the position it
	// holds.
	LoadCases(ctx context.Context) (*caseindex.Index, uint64, error)
}

// Tiles drops the cached tiles a change makes stale and describes them
// for clients (package tiles' Service: CaseChanged returns tiles.Stale).
type Tiles interface {
	CaseChanged(caseindex.Change) json.Marshaler
}

// Hub applies case changes to the case index, the tiles and the event
// streams: the writes of this process as they are made (ChangedAt), and
// everyone's as the change feed brings them (Follow). Safe for concurrent
// use.
type Hub struct {
	index  *caseindex.Index
	store  Store // nil: no feed to follow
	tiles  Tiles // nil: no tiles to keep
	now    func() time.Time
	logger *slog.Logger
	events broker

	// mu orders the applies (a write's, the follower's, a resync's swap),
	// so that the checks below and the apply are one step.
	mu sync.Mutex
	// applied is the position of the feed applied (see package position).
	applied uint64
	// advanced is closed, and replaced, when applied grows.
	advanced chan struct{}
	// seen holds the versions applied lately, in two generations swapped
	// every seenFor: a change read or made before a newer one, but
	// applied after it, is skipped, so the index never goes back even for
	// a moment. Older versions are forgotten: the follower's fresh read of
	// every change makes the index right in the end regardless.
	seen   [2]map[int64]int
	seenAt time.Time
	// local holds this process's writes the follower has not yet passed
	// (by case id): a resync's snapshot may predate them, and they must
	// survive its swap.
	local map[int64]localWrite
}

type localWrite struct {
	pos uint64
	c   *cases.Case
}

// seenFor is how long a generation of seen versions lasts.
const seenFor = 10 * time.Second

// manyCases is the size of a batch above which the streams are told "bulk"
// once instead of each case (the page then reloads what it shows).
const manyCases = 64

// resyncAbove is the number of changed cases above which a follower that
// fell behind loads everything anew instead of reading them one by one.
const resyncAbove = 200_000

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
	return &Hub{index: index, store: o.Store, tiles: o.Tiles, now: o.Now, logger: o.Logger,
		advanced: make(chan struct{}), seen: [2]map[int64]int{{}, {}}, seenAt: time.Now(), local: map[int64]localWrite{}}
}

// Index returns the case index the hub keeps.
func (h *Hub) Index() *caseindex.Index { return h.index }

// Changed applies a case created or changed, as ChangedAt with no
// position.
func (h *Hub) Changed(c *cases.Case) { h.ChangedAt(0, c) }

// ChangedAt applies the cases a write of this process stored at position p
// (0: unknown): the index has them and the stale tiles are gone before it
// returns, so every later read of this process shows them; then the
// streams hear of them, each as its audience may (see Audience), one by
// one, or for a large batch with one "bulk" event. A write the follower
// has passed already is not applied again: it read the cases after the
// write, as they are now.
func (h *Hub) ChangedAt(p uint64, cs ...*cases.Case) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p != 0 && h.applied >= p {
		return
	}
	h.applyLocked(cs, p != 0, false)
	if p != 0 {
		for _, c := range cs {
			h.local[c.ID] = localWrite{pos: p, c: c}
		}
	}
}

// applyLocked applies cs; with check, it skips those older than the
// versions seen, and when read from the feed (again) those as old; h.mu
// must be held.
func (h *Hub) applyLocked(cs []*cases.Case, check, again bool) {
	h.rotateSeen()
	fresh := cs[:0:0]
	for _, c := range cs {
		if v, ok := h.seenVersion(c.ID); check && ok && (v > c.Version || again && v == c.Version) {
			continue
		}
		h.seen[0][c.ID] = c.Version
		fresh = append(fresh, c)
	}
	if len(fresh) <= manyCases {
		for _, c := range fresh {
			h.changed(c)
		}
		return
	}
	h.applyManyLocked(fresh)
}

// applyManyLocked applies a batch: the index takes each case; the tiles
// are dropped once, all of them (working out each case's stale tiles costs
// more than the batch), and the streams hear one "bulk" event; h.mu must be
// held.
func (h *Hub) applyManyLocked(cs []*cases.Case) {
	if len(cs) == 0 {
		return
	}
	for _, c := range cs {
		if _, err := h.index.Apply(caseindex.EntryOf(c)); err != nil {
			h.logger.Error("case index", "case", c.ID, "err", err)
		}
	}
	if h.tiles != nil {
		h.tiles.CaseChanged(caseindex.Change{Reset: true})
	}
	h.events.publish("bulk", map[string]any{"at": h.now().UTC().Format(time.RFC3339), "cases": len(cs)})
}

// ChangedMany applies the cases of a bulk batch this process stored at
// position p as ChangedAt does, but always as a batch: one "bulk" event.
func (h *Hub) ChangedMany(p uint64, cs []*cases.Case) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p != 0 && h.applied >= p {
		return
	}
	h.rotateSeen()
	fresh := cs[:0:0]
	for _, c := range cs {
		if v, ok := h.seenVersion(c.ID); ok && v > c.Version {
			continue
		}
		h.seen[0][c.ID] = c.Version
		fresh = append(fresh, c)
		if p != 0 {
			h.local[c.ID] = localWrite{pos: p, c: c}
		}
	}
	h.applyManyLocked(fresh)
}

func (h *Hub) seenVersion(id int64) (int, bool) {
	if v, ok := h.seen[0][id]; ok {
		return v, true
	}
	v, ok := h.seen[1][id]
	return v, ok
}

func (h *Hub) rotateSeen() {
	if time.Since(h.seenAt) > seenFor {
		h.seen[1], h.seen[0], h.seenAt = h.seen[0], map[int64]int{}, time.Now()
	}
}

// changed applies one case and tells the streams; h.mu must be held.
func (h *Hub) changed(c *cases.Case) {
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
// them).
func (h *Hub) Close() { h.events.close() }

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
