"""Prometheus metrics of the web app, one registry per app.

With several gunicorn workers, `PROMETHEUS_MULTIPROC_DIR` (set by `tickercast web` before the
workers start) makes every worker write its samples there and `/metrics` add them all up.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from tickercast.runtime.serving import prometheus_text, redis_up_gauge, route_metrics

SECONDS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class WebMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests, self.request_seconds = route_metrics(
            "tickercast_web_requests", "tickercast_web_request_seconds", r, SECONDS
        )
        self.model_calls = Counter(
            "tickercast_web_model_calls",
            "Calls to the model service by outcome (ok or the HTTP status we answered).",
            ["outcome"],
            registry=r,
        )
        self.redis_up = redis_up_gauge("tickercast_web", r)
        self.answers = Counter(
            "tickercast_web_model_answers",
            "Model answers needed, by where they came from (hit: the shared cache).",
            ["result"],
            registry=r,
        )
        self.model_seconds = Histogram(
            "tickercast_web_model_seconds",
            "Time the model service took, retries included.",
            buckets=SECONDS,
            registry=r,
        )

        self.provider_fetches = Counter(
            "tickercast_web_provider_fetches",
            "Calls to online price providers, by provider and outcome (ok, not_found, error).",
            ["provider", "outcome"],
            registry=r,
        )
        self.price_cache = Counter(
            "tickercast_web_price_cache",
            "Lookups of fetched prices in the price cache, by provider and result (hit, miss).",
            ["provider", "result"],
            registry=r,
        )

    def provider_event(self, provider: str, outcome: str) -> None:
        """One price lookup of an online provider: `cached`, or the outcome of a fetch."""
        self.price_cache.labels(provider, "hit" if outcome == "cached" else "miss").inc()
        if outcome != "cached":
            self.provider_fetches.labels(provider, outcome).inc()

    def exposition(self) -> bytes:
        return prometheus_text(self.registry)
