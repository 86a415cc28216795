package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the daemon's Prometheus series, on a registry of its own so two
// servers in one process (tests) never share state.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	writes    *prometheus.CounterVec
	batchSize prometheus.Histogram
	commit    prometheus.Histogram
}

func newMetrics() *metrics {
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tinycrm_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "tinycrm_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: latency,
		}, []string{"route"}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tinycrm_ingest_writes_total", Help: "Ingest writes by outcome (applied, duplicate, suppressed, rejected, failed).",
		}, []string{"outcome"}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tinycrm_ingest_commit_batch_size", Help: "Writes per group-committed transaction of single ingest calls.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tinycrm_ingest_commit_duration_seconds",
			Help:    "Time to apply and commit one group-committed transaction of single ingest calls: the part of their latency spent in the database.",
			Buckets: latency,
		}),
	}
	m.registry.MustRegister(m.requests, m.duration, m.writes, m.batchSize, m.commit,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
