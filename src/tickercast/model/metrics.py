"""Prometheus metrics of the model service, one registry per app.

With several worker processes, `PROMETHEUS_MULTIPROC_DIR` (set by `tickercast model` before the
workers start) makes every worker write its samples there and `/metrics` add them all up.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)

from tickercast.runtime.serving import prometheus_text, redis_up_gauge, route_metrics

FIT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.duration = Histogram(
            "tickercast_model_request_seconds",
            "Time to answer a forecast request.",
            ["outcome"],
            buckets=FIT_BUCKETS,
            registry=r,
        )
        self.cache = Counter(
            "tickercast_model_cache", "Forecast cache lookups.", ["result"], registry=r
        )
        self.in_flight = Gauge(
            "tickercast_model_in_flight",
            "Forecasts being computed or waiting.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.redis_up = redis_up_gauge("tickercast_model", r)
        self.http_requests, self.http_request_seconds = route_metrics(
            "tickercast_model_http_requests",
            "tickercast_model_http_request_seconds",
            r,
            FIT_BUCKETS,
        )
        self.fits = Counter(
            "tickercast_model_fits",
            "Forecasts computed (cache misses that ran the engine), by outcome.",
            ["outcome"],
            registry=r,
        )
        self.fit_seconds = Histogram(
            "tickercast_model_fit_seconds",
            "Time the engine took for one forecast (fit and predict), waiting excluded.",
            buckets=FIT_BUCKETS,
            registry=r,
        )
        self.rows = Histogram(
            "tickercast_model_rows",
            "History rows per request.",
            buckets=(10, 100, 250, 500, 1000, 2500, 5000, 10000, 20000),
            registry=r,
        )

    def exposition(self) -> bytes:
        return prometheus_text(self.registry)
