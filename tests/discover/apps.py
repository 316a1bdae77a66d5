"""Small Flask backends in the shapes ``discover`` must recognise, served on a free loopback port.

- ``node_app``: Node-style ``/api/health`` ``{status, services}``, node-postgres pool counts nested
  at ``/api/performance/stats``, ``http_request_duration_seconds`` and ``http_requests_total``
  with the status in label ``code``, ``X-Cache`` on a product route only its metrics name;
- ``spring_app``: Spring Boot Actuator ``/actuator/health`` ``{status, components}``, Micrometer's
  ``/actuator/prometheus`` (``http_server_requests_seconds{uri,status}``, no counter, HikariCP
  gauges), ``CF-Cache-Status``;
- ``hikari_app``: the IETF health+json draft at ``/health``, HikariCP pool JSON at ``/api/pool``,
  a handler/status histogram and counter at ``/metrics``, ``X-Cache-Status``;
- ``checks_app``: a ``checks`` array at ``/healthz`` and nothing else.

``create_*`` have no side effects; ``serve(app)`` runs one with werkzeug in a daemon thread.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, Response, g, jsonify, request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from werkzeug.serving import make_server


class Served:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(app: Flask) -> Served:
    return Served(app)


def _metrics_route(app: Flask, registry: CollectorRegistry, path: str) -> None:
    app.add_url_rule(path, path, lambda: Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST))


def _instrument(app: Flask, hist: Histogram, counter: Counter | None, route_label: str, status_label: str,
                prefix: str) -> None:
    @app.before_request
    def _start() -> None:
        g.t0 = time.perf_counter()

    @app.after_request
    def _observe(resp: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule else ""
        if rule.startswith(prefix):
            labels = {route_label: rule, status_label: str(resp.status_code), "method": request.method}
            hist.labels(**labels).observe(time.perf_counter() - g.t0)
            if counter is not None:
                counter.labels(**labels).inc()
        return resp


class Cache:
    """Every first read of a key misses, the next ones hit."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def outcome(self, key: str) -> str:
        with self.lock:
            hit = key in self.seen
            self.seen.add(key)
        return "HIT" if hit else "MISS"


def create_node_app() -> Flask:
    app = Flask("node-shop")
    reg = CollectorRegistry()
    hist = Histogram("http_request_duration_seconds", "Request latency.", ["method", "route", "code"], registry=reg)
    counter = Counter("http_requests_total", "Requests.", ["method", "route", "code"], registry=reg)
    _instrument(app, hist, counter, "route", "code", "/shop/")
    _metrics_route(app, reg, "/metrics")
    cache = Cache()

    @app.get("/api/health")
    def health():
        return jsonify(status="ok", uptime=123.4, services={"database": {"status": "ok", "latencyMs": 3.1},
                                                           "redis": {"status": "ok", "latencyMs": 0.4}})

    @app.get("/api/performance/stats")
    def stats():
        return jsonify(database={"totalCount": 4, "idleCount": 3, "waitingCount": 0, "max": 10},
                       memory={"rss": 12345678})

    @app.get("/shop/catalogue/<int:pid>")
    def product(pid: int):
        return Response(f'{{"id": {pid}}}', content_type="application/json",
                        headers={"X-Cache": cache.outcome(str(pid))})

    @app.get("/shop/checkout")
    def checkout():
        return ("payment failed", 500) if request.args.get("fail") else ("paid", 200)

    return app


def create_spring_app() -> Flask:
    app = Flask("spring-shop")
    reg = CollectorRegistry()
    hist = Histogram("http_server_requests_seconds", "Duration of HTTP server request handling",
                     ["method", "uri", "status", "outcome"], registry=reg)
    for name, value in (("active", 2), ("idle", 8), ("pending", 0), ("max", 10), ("", 10)):
        gauge = Gauge("hikaricp_connections" + (f"_{name}" if name else ""), f"HikariCP {name or 'total'}",
                      ["pool"], registry=reg)
        gauge.labels(pool="HikariPool-1").set(value)

    @app.before_request
    def _start() -> None:
        g.t0 = time.perf_counter()

    @app.after_request
    def _observe(resp: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule else ""
        if rule.startswith("/api/"):
            outcome = "SUCCESS" if resp.status_code < 400 else "SERVER_ERROR"
            hist.labels(request.method, rule.replace("<int:", "{").replace(">", "}"), str(resp.status_code),
                        outcome).observe(time.perf_counter() - g.t0)
        return resp

    _metrics_route(app, reg, "/actuator/prometheus")
    cache = Cache()

    @app.get("/actuator/health")
    def health():
        return jsonify(status="UP", components={
            "db": {"status": "UP", "details": {"database": "PostgreSQL", "validationQuery": "isValid()"}},
            "diskSpace": {"status": "UP", "details": {"total": 100, "free": 50}},
            "redis": {"status": "UP", "details": {"version": "7.0"}}})

    @app.get("/api/payments/fail")
    def fail():
        return jsonify(error="declined"), 500

    @app.get("/api/orders/<int:oid>")
    def order(oid: int):
        return jsonify(id=oid), 200, {"CF-Cache-Status": "DYNAMIC" if oid > 100 else cache.outcome(str(oid))}

    return app


def create_hikari_app() -> Flask:
    app = Flask("hikari-shop")
    reg = CollectorRegistry()
    hist = Histogram("http_request_duration_seconds", "Latency.", ["handler", "status", "method"], registry=reg)
    counter = Counter("http_requests_total", "Requests.", ["handler", "status", "method"], registry=reg)
    _instrument(app, hist, counter, "handler", "status", "/api/items")
    _metrics_route(app, reg, "/metrics")
    cache = Cache()

    @app.get("/health")
    def health():
        body = {"status": "pass", "version": "1", "checks": {
            "postgres:responseTime": [{"componentId": "db-1", "componentType": "datastore",
                                       "observedValue": 2.5, "observedUnit": "ms", "status": "pass"}],
            "redis:responseTime": [{"componentId": "cache-1", "componentType": "datastore",
                                    "observedValue": 0.7, "observedUnit": "ms", "status": "pass"}]}}
        return jsonify(body), 200, {"Content-Type": "application/health+json"}

    @app.get("/api/pool")
    def pool():
        return jsonify(pool={"poolName": "HikariPool-1", "activeConnections": 3, "idleConnections": 7,
                             "totalConnections": 10, "threadsAwaitingConnection": 0, "maxPoolSize": 20})

    @app.get("/api/items/broken")
    def broken():
        return "internal error", 500

    @app.get("/api/items/<int:iid>")
    def item(iid: int):
        return jsonify(id=iid), 200, {"X-Cache-Status": cache.outcome(str(iid))}

    return app


def create_checks_app() -> Flask:
    app = Flask("checks-shop")

    @app.get("/healthz")
    def healthz():
        return jsonify(status="healthy", checks=[{"name": "db", "status": "healthy", "duration_ms": 4},
                                                 {"name": "queue", "status": "healthy", "duration_ms": 9}])

    return app
