"""The shop's own Prometheus metrics, as a typical Flask backend exports them."""
from __future__ import annotations

import time

from flask import Flask, Response, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def init_app(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    duration = Histogram("http_request_duration_seconds", "Request latency.", ["method", "route", "status"],
                         buckets=BUCKETS, registry=registry)
    requests_total = Counter("http_requests_total", "Requests served.", ["method", "route", "status"],
                             registry=registry)

    @app.before_request
    def start_timer() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        route = request.url_rule.rule if request.url_rule else "unmatched"
        if route != "/metrics":
            labels = (request.method, route, str(response.status_code))
            duration.labels(*labels).observe(time.perf_counter() - g.get("started", time.perf_counter()))
            requests_total.labels(*labels).inc()
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    return registry
