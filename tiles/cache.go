package tiles

import (
	"container/list"
	"context"
	"sync"
	"time"

	"citygrid/geo"
	"citygrid/grid"
)

// Cache holds encoded tiles, bounded in bytes (least recently used go
// first). Entries are found by tile as well as by key, so that a change
// can drop exactly the tiles it touches, whatever their filters.
//
// A fill that began before an invalidation is not stored: it may have read
// the data the invalidation was about (gen counts invalidations).
type Cache struct {
	mu       sync.Mutex
	maxBytes int64
	bytes    int64
	lru      *list.List // of *entry, most recent first
	byKey    map[Key]*list.Element
	byTile   map[tileRef]map[Key]struct{}
	gen      uint64
	inflight map[Key]*fill

	hits, misses, evictions uint64
}

// Key names one cached tile: layer, tile, the grid level asked for (zero:
// the zoom's), the normalised filters and the caller's scope (its key:
// "all" for the whole district). A change drops a tile for every key.
type Key struct {
	Layer   string
	Tile    geo.Tile
	Level   grid.Level
	Variant string
	Scope   string
}

type tileRef struct {
	layer string
	tile  geo.Tile
}

type entry struct {
	key     Key
	tile    *Encoded
	expires time.Time // zero: only an invalidation ends it
}

type fill struct {
	done chan struct{}
	tile *Encoded
	err  error
}

// NewCache returns a cache of at most maxBytes of tiles.
func NewCache(maxBytes int64) *Cache {
	return &Cache{maxBytes: maxBytes, lru: list.New(), byKey: map[Key]*list.Element{}, byTile: map[tileRef]map[Key]struct{}{}, inflight: map[Key]*fill{}}
}

// CacheStats are the cache's counters and size.
type CacheStats struct {
	Entries                 int
	Bytes, MaxBytes         int64
	Hits, Misses, Evictions uint64
}

// Stats returns the counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Entries: c.lru.Len(), Bytes: c.bytes, MaxBytes: c.maxBytes, Hits: c.hits, Misses: c.misses, Evictions: c.evictions}
}

// get returns the tile for k, rendering it with render on a miss. Concurrent
// misses for one key run render once; a waiter whose own context ends
// stops waiting, and a render cancelled by its caller's context is retried
// by the next waiter. hit reports whether the tile came from the cache.
func (c *Cache) get(ctx context.Context, k Key, now time.Time, render func(context.Context) (*Encoded, time.Time, error)) (t *Encoded, hit bool, err error) {
	for {
		c.mu.Lock()
		if el, ok := c.byKey[k]; ok {
			e := el.Value.(*entry)
			if e.expires.IsZero() || now.Before(e.expires) {
				c.lru.MoveToFront(el)
				c.hits++
				c.mu.Unlock()
				return e.tile, true, nil
			}
			c.remove(el)
		}
		if f, ok := c.inflight[k]; ok {
			c.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, false, ctx.Err()
			}
			if f.err != nil && isCancel(f.err) && ctx.Err() == nil {
				continue // its client left; this one is still here
			}
			return f.tile, false, f.err
		}
		c.misses++
		f := &fill{done: make(chan struct{})}
		c.inflight[k] = f
		gen := c.gen
		c.mu.Unlock()

		tile, expires, err := render(ctx)
		f.tile, f.err = tile, err

		c.mu.Lock()
		delete(c.inflight, k)
		if err == nil && c.gen == gen && int64(tile.Size()) <= c.maxBytes/8 {
			c.store(&entry{key: k, tile: tile, expires: expires})
		}
		c.mu.Unlock()
		close(f.done)
		return tile, false, err
	}
}

func isCancel(err error) bool {
	return err == context.Canceled || err == context.DeadlineExceeded
}

func (c *Cache) store(e *entry) {
	if old, ok := c.byKey[e.key]; ok {
		c.remove(old)
	}
	c.byKey[e.key] = c.lru.PushFront(e)
	ref := tileRef{e.key.Layer, e.key.Tile}
	if c.byTile[ref] == nil {
		c.byTile[ref] = map[Key]struct{}{}
	}
	c.byTile[ref][e.key] = struct{}{}
	c.bytes += int64(e.tile.Size())
	for c.bytes > c.maxBytes && c.lru.Len() > 0 {
		c.remove(c.lru.Back())
		c.evictions++
	}
}

func (c *Cache) remove(el *list.Element) {
	e := el.Value.(*entry)
	c.lru.Remove(el)
	delete(c.byKey, e.key)
	ref := tileRef{e.key.Layer, e.key.Tile}
	if keys := c.byTile[ref]; keys != nil {
		delete(keys, e.key)
		if len(keys) == 0 {
			delete(c.byTile, ref)
		}
	}
	c.bytes -= int64(e.tile.Size())
}

// dropTile removes every variant of layer at t.
func (c *Cache) dropTile(layer string, t geo.Tile) {
	for k := range c.byTile[tileRef{layer, t}] {
		c.remove(c.byKey[k])
	}
}

// invalidate runs drop under the cache's lock and marks every fill in
// flight as too old to store.
func (c *Cache) invalidate(drop func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	drop()
}

// dropWhere removes the entries of the given layers for which match holds.
func (c *Cache) dropWhere(match func(Key) bool, layers ...string) {
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		k := el.Value.(*entry).key
		for _, l := range layers {
			if k.Layer == l && match(k) {
				c.remove(el)
				break
			}
		}
		el = next
	}
}
