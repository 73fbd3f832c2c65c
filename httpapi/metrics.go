package httpapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"citygrid/grid"
)

type metrics struct {
	requests *prometheus.HistogramVec
	located  prometheus.Counter
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
	reg.MustRegister(m.requests, m.located)
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
