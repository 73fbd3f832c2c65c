package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"citygrid/grid"
	"citygrid/tiles"
)

type metrics struct {
	requests *prometheus.HistogramVec
	located  prometheus.Counter

	tileSeconds  *prometheus.HistogramVec
	tileBytes    *prometheus.HistogramVec
	tileFeatures *prometheus.HistogramVec
	tileRequests *prometheus.CounterVec
	tileCapped   *prometheus.CounterVec

	rateLimited *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry, index *grid.Index) *metrics {
	m := &metrics{
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "citygrid_http_request_duration_seconds",
			Help:    "HTTP request latency by method, route and status.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"method", "route", "status"}),
		located: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "citygrid_locate_points_total",
			Help: "Points located through /v1/locate.",
		}),
	}
	m.tileSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "citygrid_tile_duration_seconds",
		Help:    "Time to produce a tile (cache lookup or render), by layer and zoom.",
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	}, []string{"layer", "zoom"})
	m.tileBytes = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "citygrid_tile_bytes",
		Help:    "Uncompressed tile size, by layer and zoom.",
		Buckets: prometheus.ExponentialBuckets(256, 4, 8),
	}, []string{"layer", "zoom"})
	m.tileFeatures = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "citygrid_tile_features",
		Help:    "Features per tile, by tile layer and zoom (all source layers).",
		Buckets: prometheus.ExponentialBuckets(1, 4, 9),
	}, []string{"layer", "zoom"})
	m.tileRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "citygrid_tile_requests_total",
		Help: "Tiles served, by layer, zoom and cache result (hit or miss): the hit ratio is hit / (hit + miss).",
	}, []string{"layer", "zoom", "cache"})
	m.tileCapped = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "citygrid_tile_capped_total",
		Help: "Tiles whose source layer reached the per-tile feature cap, by source layer.",
	}, []string{"layer"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "citygrid_rate_limited_total",
		Help: "Requests refused with a 429 for being over a per-client rate or concurrency limit, by route.",
	}, []string{"route"})
	reg.MustRegister(m.requests, m.located, m.tileSeconds, m.tileBytes, m.tileFeatures, m.tileRequests, m.tileCapped, m.rateLimited)
	if index != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "citygrid_grid_index_grids", Help: "Grids in the in-memory locator.",
		}, func() float64 {
			if l := index.Locator(); l != nil {
				return float64(l.Len())
			}
			return 0
		}), prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "citygrid_grid_index_cells", Help: "H3 cells in the in-memory locator.",
		}, func() float64 {
			if l := index.Locator(); l != nil {
				return float64(l.IndexedCells())
			}
			return 0
		}))
	}
	return m
}

func (m *metrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Observe(elapsed.Seconds())
}

func (m *metrics) observeTile(layer string, z uint32, hit bool, enc *tiles.Encoded, elapsed time.Duration) {
	zoom := strconv.Itoa(int(z))
	result := "miss"
	if hit {
		result = "hit"
	}
	m.tileRequests.WithLabelValues(layer, zoom, result).Inc()
	m.tileSeconds.WithLabelValues(layer, zoom).Observe(elapsed.Seconds())
	m.tileBytes.WithLabelValues(layer, zoom).Observe(float64(len(enc.Raw)))
	n := 0
	for _, c := range enc.Features {
		n += c
	}
	m.tileFeatures.WithLabelValues(layer, zoom).Observe(float64(n))
}
