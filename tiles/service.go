package tiles

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"

	"citygrid/access"
	"citygrid/caseindex"
	"citygrid/cases"
	"citygrid/geo"
	"citygrid/grid"
)

// Layer names.
const (
	LayerGrids     = "grids"
	LayerCases     = "cases"
	LayerHotspots  = "hotspots"
	LayerBattlemap = "battlemap"
)

// Layers lists the layers served, battlemap last.
var Layers = []string{LayerGrids, LayerCases, LayerHotspots, LayerBattlemap}

// ErrUnknownLayer is returned for a layer name not in Layers.
var ErrUnknownLayer = errors.New("unknown tile layer")

// ErrNoGrids is returned while there is no grid index to draw from.
var ErrNoGrids = errors.New("the grid index is still being built")

// Options tune the service; zero values take the defaults.
type Options struct {
	// PointZoom is the zoom from which cases are single points (default 14).
	PointZoom int
	// MaxFeatures caps the features of one layer in one tile (default
	// 10,000); cases beyond it are left out, oldest first.
	MaxFeatures int
	// CacheBytes bounds the tile cache (default 256 MiB).
	CacheBytes int64
	// HotspotSpan is the hotspot window when a request names none: the
	// span up to the end of the current hour (default 30 days).
	HotspotSpan time.Duration
	// HotspotK is the Gi* neighbourhood ring when none is asked (default 1).
	HotspotK int
}

func (o *Options) setDefaults() {
	if o.PointZoom == 0 {
		o.PointZoom = 14
	}
	if o.MaxFeatures == 0 {
		o.MaxFeatures = 10000
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 256 << 20
	}
	if o.HotspotSpan == 0 {
		o.HotspotSpan = 30 * 24 * time.Hour
	}
	if o.HotspotK == 0 {
		o.HotspotK = 1
	}
}

// HotspotQuery asks for Gi* over the study area.
type HotspotQuery struct {
	Res, K int
	Filter caseindex.Filter
	FDR    bool
}

// HotCell is one analysed cell.
type HotCell struct {
	Cell       geo.Cell
	Count      float64
	DensityKM2 float64
	GiZ        float64
	Class      string
}

// HotspotFunc runs a hotspot analysis; its errors reach the client as they
// are (a too small study area is the client's to fix).
type HotspotFunc func(ctx context.Context, q HotspotQuery) ([]HotCell, error)

// Params are a tile request's filters and the caller's scope. Cases and
// hotspots use Filter; grids use Level (zero: by zoom); hotspots use Res
// (zero: by zoom), K (zero: the default) and NoFDR.
type Params struct {
	Filter caseindex.Filter
	Level  grid.Level
	Res, K int
	NoFDR  bool
	// Scope is the caller's part of the district (nil: all of it). Every
	// layer is cut to it: cases and clusters, hotspots (over its grids),
	// and grids (in it with counts cut to it, above it as outlines,
	// beside it not at all). Filter.Restriction is set from it, whatever
	// it held.
	Scope *access.Scope
	// Locator, when set, draws the grids in force at another time (grid
	// versions, issue 19) instead of the index's; such tiles are rendered
	// each time, never cached.
	Locator *grid.Locator
}

// scopeKey names the scope in cache keys: "all" for the whole district.
func (p Params) scopeKey() string {
	if p.Scope == nil {
		return "all"
	}
	return p.Scope.Key()
}

// restricted is the filter with the scope's restriction, the only source
// of one.
func (p Params) restricted() Params {
	p.Filter.Restriction = cases.Restriction{}
	if p.Scope != nil {
		p.Filter.Restriction = p.Scope.Restriction()
	}
	return p
}

// variant is the normalised form of the filters that matter to layer (the
// level is a key field of its own). The order of statuses and categories
// does not matter.
func (p Params) variant(layer string) string {
	var b strings.Builder
	if layer != LayerGrids {
		f := p.Filter
		st := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			st[i] = string(s)
		}
		slices.Sort(st)
		st = slices.Compact(st)
		cats := slices.Compact(slices.Sorted(slices.Values(f.Categories)))
		fmt.Fprintf(&b, "status=%s&category=%s&source=%s&unit=%s", strings.Join(st, ","), strings.Join(cats, ","), f.Source, f.Unit)
		if !f.From.IsZero() {
			fmt.Fprintf(&b, "&from=%d", f.From.Unix())
		}
		if !f.To.IsZero() {
			fmt.Fprintf(&b, "&to=%d", f.To.Unix())
		}
	}
	if layer == LayerHotspots || layer == LayerBattlemap {
		fmt.Fprintf(&b, "&res=%d&k=%d&nofdr=%t", p.Res, p.K, p.NoFDR)
	}
	return b.String()
}

// Encoded is a rendered tile.
type Encoded struct {
	Raw  []byte // the MVT protobuf; empty for a tile with no features
	Gzip []byte // Raw gzipped
	// ETag is strong and a hash of the content: replicas that render the
	// same data give the same ETag, and any change gives a new one.
	ETag     string
	Features map[string]int // per source layer
	Capped   []string       // source layers that hit MaxFeatures
}

// Size is what the tile costs the cache.
func (e *Encoded) Size() int { return len(e.Raw) + len(e.Gzip) + 256 }

// Service renders and caches tiles.
type Service struct {
	opt      Options
	grids    *grid.Index
	cases    *caseindex.Index
	hotspots HotspotFunc
	cache    *Cache
	now      func() time.Time

	mu         sync.Mutex
	locator    *grid.Locator           // the one the cache was last checked against
	loads      map[loadsKey]*gridLoads // by the unit and source a scope keeps
	hotMemo    map[string]*hotResult
	hotMemoAt  uint64        // case-index version of hotMemo
	hotMemoLoc *grid.Locator // and its grids
}

// New returns a service drawing from grids, cases and hotspots (which may
// be nil: no hotspot layer). Tell it of every change of cases (CaseChanged).
func New(grids *grid.Index, cases *caseindex.Index, hotspots HotspotFunc, opt Options, now func() time.Time) *Service {
	opt.setDefaults()
	if now == nil {
		now = time.Now
	}
	s := &Service{opt: opt, grids: grids, cases: cases, hotspots: hotspots, cache: NewCache(opt.CacheBytes), now: now}
	return s
}

// Options returns the options in force.
func (s *Service) Options() Options { return s.opt }

// CacheStats returns the tile cache's counters.
func (s *Service) CacheStats() CacheStats { return s.cache.Stats() }

// Tile returns the tile, from the cache or freshly rendered; hit says
// which.
func (s *Service) Tile(ctx context.Context, layer string, t geo.Tile, p Params) (*Encoded, bool, error) {
	if !slices.Contains(Layers, layer) {
		return nil, false, fmt.Errorf("%w %q", ErrUnknownLayer, layer)
	}
	if layer == LayerHotspots && s.hotspots == nil {
		return nil, false, fmt.Errorf("%w %q: no hotspot analysis configured", ErrUnknownLayer, layer)
	}
	if p.Locator != nil { // grid versions (issue 19): another time's grids
		enc, _, err := s.render(ctx, p.Locator, layer, t, p.restricted())
		return enc, false, err
	}
	l := s.grids.Locator()
	if l == nil {
		return nil, false, ErrNoGrids
	}
	s.followGrids(l)
	// The scope is part of the key, so of the concurrent-miss key too: one
	// caller's tile never reaches another, not even as a waiter's.
	key := Key{Layer: layer, Tile: t, Variant: p.variant(layer), Scope: p.scopeKey()}
	if layer == LayerGrids || layer == LayerBattlemap {
		key.Level = p.Level
	}
	p = p.restricted()
	return s.cache.get(ctx, key, s.now(), func(ctx context.Context) (*Encoded, time.Time, error) {
		return s.render(ctx, l, layer, t, p)
	})
}

// render draws one tile; the time returned is when it goes stale by
// itself (a deadline passing, the hour turning), zero if never.
func (s *Service) render(ctx context.Context, l *grid.Locator, layer string, t geo.Tile, p Params) (*Encoded, time.Time, error) {
	now := s.now()
	var (
		raw     []byte
		expires time.Time
		enc     = &Encoded{Features: map[string]int{}}
	)
	add := func(lw *layerWriter, exp time.Time, capped bool) {
		raw = lw.appendTo(raw)
		enc.Features[lw.name] = lw.count
		if capped {
			enc.Capped = append(enc.Capped, lw.name)
		}
		if !exp.IsZero() && (expires.IsZero() || exp.Before(expires)) {
			expires = exp
		}
	}
	if layer == LayerGrids || layer == LayerBattlemap {
		lw, exp, capped := s.gridsLayer(l, t, p, now)
		add(lw, exp, capped)
	}
	if layer == LayerCases || layer == LayerBattlemap {
		lw, exp, capped, err := s.casesLayer(ctx, t, p, now)
		if err != nil {
			return nil, time.Time{}, err
		}
		add(lw, exp, capped)
	}
	if (layer == LayerHotspots || layer == LayerBattlemap) && s.hotspots != nil {
		lw, exp, capped, err := s.hotspotsLayer(ctx, l, t, p, now)
		switch {
		case err == nil:
			add(lw, exp, capped)
		case ctx.Err() != nil || (layer == LayerHotspots && p.Res != 0):
			return nil, time.Time{}, err
		default:
			// The analysis cannot run at the zoom's own resolution (a
			// district too small for it): the tile just has no hotspots,
			// and a battlemap keeps its grids and cases. Asked for a
			// resolution, the client hears why.
		}
	}
	enc.Raw = raw
	sum := sha256.Sum256(raw)
	enc.ETag = `"` + hex.EncodeToString(sum[:12]) + `"`
	if len(raw) > 0 {
		enc.Gzip = gzipped(raw)
	}
	return enc, expires, nil
}

// gzipWriters are reused. Stateless compression (klauspost/compress)
// runs three times faster than the standard library's fastest level on
// tiles, for some 5% more bytes: on a cold tile, compression was a third
// of the render.
var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.StatelessCompression)
	return zw
}}

func gzipped(raw []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(raw)/2 + 64)
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&b)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return b.Bytes()
}

// earliest returns the earlier of a and the unix time u (0: none).
func earliest(a time.Time, u int64) time.Time {
	if u == 0 {
		return a
	}
	t := time.Unix(u+1, 0) // overdue from the second after the deadline
	if a.IsZero() || t.Before(a) {
		return t
	}
	return a
}
