package live

import (
	"context"
	"fmt"
	"time"

	"citygrid/caseindex"
	"citygrid/position"
)

var _ position.Follower = (*Hub)(nil)

// Applied returns the position of the change feed this process has applied:
// every case change below it shows in its indexes.
func (h *Hub) Applied() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.applied
}

// WaitFor returns once the hub has applied position p, or with ctx's error.
func (h *Hub) WaitFor(ctx context.Context, p uint64) error {
	for {
		h.mu.Lock()
		done, advanced := h.applied >= p, h.advanced
		h.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// advanceLocked moves the applied position to p and wakes the waiters;
// h.mu must be held. The writes of this process below p are the follower's
// now.
func (h *Hub) advanceLocked(p uint64) {
	h.applied = p
	close(h.advanced)
	h.advanced = make(chan struct{})
	for id, w := range h.local {
		if w.pos <= p {
			delete(h.local, id)
		}
	}
}

// Load reads every case into a new index, built aside, and swaps it in
// (what a start does, and a follower that lost its place): nothing of the
// old index is merged into it but this process's own writes the load's
// snapshot may predate. The streams are told "bulk" and every tile is
// dropped.
func (h *Hub) Load(ctx context.Context) error {
	start := time.Now()
	fresh, p, err := h.store.LoadCases(ctx)
	if err != nil {
		return err
	}
	h.mu.Lock()
	kept := 0
	for _, w := range h.local {
		if w.pos > p {
			if _, err := fresh.Apply(caseindex.EntryOf(w.c)); err != nil {
				h.mu.Unlock()
				return fmt.Errorf("case index: case %d: %w", w.c.ID, err)
			}
			kept++
		}
	}
	h.index.Replace(fresh)
	// What was seen belongs to the old index (maybe to another database).
	h.seen, h.seenAt = [2]map[int64]int{{}, {}}, time.Now()
	for _, w := range h.local {
		if w.pos > p {
			h.seen[0][w.c.ID] = w.c.Version
		}
	}
	h.advanceLocked(p)
	if h.tiles != nil {
		h.tiles.CaseChanged(caseindex.Change{Reset: true})
	}
	h.events.publish("bulk", map[string]string{"at": h.now().UTC().Format(time.RFC3339)})
	h.mu.Unlock()
	h.logger.Info("case index loaded", "cases", h.index.Len(), "position", p, "own_writes_kept", kept,
		"elapsed", time.Since(start).Round(time.Millisecond))
	return nil
}

// Follow applies the change feed, in commit order, until ctx ends: at
// every wake-up (a notification that a transaction changed cases, or a
// reconnect) and every poll interval regardless, since a wake-up can be
// lost. Call Load first. A follower that finds its place pruned from the
// log, or far behind, loads everything anew and says so.
func (h *Hub) Follow(ctx context.Context, wake <-chan struct{}, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	failing := false
	for {
		if err := h.CatchUp(ctx); err != nil && ctx.Err() == nil {
			if !failing {
				h.logger.Warn("change feed: cannot read it, retrying", "err", err)
			}
			failing = true
		} else if failing && err == nil {
			h.logger.Info("change feed: reading it again", "position", h.Applied())
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}

// CatchUp applies the changes of the feed from the applied position to its
// horizon (or loads everything anew, see Follow). Follow calls it; only one
// may run at a time.
func (h *Hub) CatchUp(ctx context.Context) error {
	from := h.Applied()
	ids, horizon, gap, err := h.store.ReadChanges(ctx, from)
	if err != nil {
		return err
	}
	switch {
	case gap && horizon < from:
		h.logger.Warn("change feed: the database's position went back (restored or reset): loading every case anew", "position", from, "database_position", horizon)
		return h.Load(ctx)
	case gap:
		h.logger.Warn("change feed: changes from this process's position were pruned from the log: loading every case anew", "position", from, "horizon", horizon)
		return h.Load(ctx)
	case len(ids) > resyncAbove:
		h.logger.Warn("change feed: far behind: loading every case anew", "position", from, "horizon", horizon, "changed_cases", len(ids))
		return h.Load(ctx)
	}
	if len(ids) == 0 && horizon == from {
		return nil
	}
	const chunk = 10_000
	for len(ids) > 0 {
		n := min(chunk, len(ids))
		cs, err := h.store.FindCasesByID(ctx, ids[:n])
		if err != nil {
			return err
		}
		ids = ids[n:]
		if len(cs) == 0 {
			continue
		}
		h.mu.Lock()
		h.applyLocked(cs, true, true)
		h.mu.Unlock()
	}
	h.mu.Lock()
	if horizon > h.applied {
		h.advanceLocked(horizon)
	}
	h.mu.Unlock()
	return nil
}

// ReplayFrom is a start from a snapshot (package snapshot, issue 14 part
// 3): the caller has filled Index() (with Replace) from a snapshot taken
// at position p — read Applied() before serialising the index: a snapshot
// may hold changes beyond its position, which the replay applies again,
// harmlessly — and ReplayFrom applies the feed's tail from p. A p the log
// no longer holds (pruned, or a database reset since) loads every case
// anew, with a log line, as Follow does. Positions are comparable only
// within one database: check the snapshot's DatabaseIdentity first.
func (h *Hub) ReplayFrom(ctx context.Context, p uint64) error {
	h.mu.Lock()
	h.seen, h.seenAt = [2]map[int64]int{{}, {}}, time.Now()
	h.applied = p
	h.mu.Unlock()
	return h.CatchUp(ctx)
}
