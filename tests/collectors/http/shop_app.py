"""A small Flask shop API for the http collector's tests, well and badly behaved.

``create_app(state)`` has no side effects; ``serve(app)`` runs it with
werkzeug's make_server in a daemon thread on a free loopback port.
"""
from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, Response, g, jsonify, redirect, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

BUCKETS = (0.01, 0.1, 0.2, 0.4, 0.8, float("inf"))
HUGE_BYTES = 50 * 1024 * 1024


@dataclass
class AppState:
    cache_pattern: list[str] = field(default_factory=lambda: ["MISS"])
    cache_calls: int = 0
    huge_sent: int = 0
    seen_headers: dict[str, str] = field(default_factory=dict)
    cached_products: set[int] = field(default_factory=set)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.duration = Histogram("http_request_duration_seconds", "Request latency.", ["route", "method"],
                                  registry=self.registry, buckets=BUCKETS)
        self.requests = Counter("http_requests_total", "Requests.", ["route", "status"], registry=self.registry)


def create_app(state: AppState) -> Flask:
    app = Flask(__name__)

    @app.before_request
    def _start() -> None:
        g.t0 = time.perf_counter()

    @app.after_request
    def _observe(resp: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule else ""
        if rule.startswith("/shop/"):  # only the instrumented part of the shop
            state.duration.labels(rule, request.method).observe(time.perf_counter() - g.t0)
            state.requests.labels(rule, str(resp.status_code)).inc()
        return resp

    @app.get("/shop/products")
    def products():
        time.sleep(float(request.args.get("ms", "0")) / 1000)
        return jsonify(items=[1, 2, 3])

    @app.get("/shop/checkout")
    def checkout():
        return ("payment failed", 500) if request.args.get("fail") else ("paid", 200)

    @app.get("/shop/pay")
    def pay():
        return ("card declined", 402) if request.args.get("declined") else ("paid", 200)

    @app.get("/products/<int:pid>")
    def product(pid: int):
        # A read-through cache as a shop has: the first read of a product misses, later ones hit.
        with state.lock:
            hit = pid in state.cached_products
            state.cached_products.add(pid)
        return Response(f"product {pid}", headers={"X-Cache": "HIT" if hit else "MISS"})

    @app.get("/ok")
    def ok():
        state.seen_headers = dict(request.headers)
        return "hello shop: Add to cart"

    @app.get("/cache")
    def cache():
        with state.lock:
            value = state.cache_pattern[state.cache_calls % len(state.cache_pattern)]
            state.cache_calls += 1
        return Response("cached page", headers={"X-Cache": value})

    @app.get("/api/health")
    def health():
        return jsonify(status="ok", checks={
            "database": {"status": "up", "latency_ms": 12.5},
            "redis": {"status": "down", "latency_ms": 250},
            "payments": "ok",
        })

    @app.get("/api/health-degraded")
    def health_degraded():
        # Node-style, as terminus or a hand-written Express route answers when a dependency is down.
        return jsonify(status="degraded", services={"database": {"status": "up", "responseTime": 3},
                                                    "redis": {"status": "down", "responseTime": 2000}}), 503

    @app.get("/api/pool-stats")
    def pool_stats():
        # node-postgres' pool counters, under the database they belong to.
        return jsonify(database={"totalCount": 10, "idleCount": 4, "waitingCount": 1, "max": 20})

    @app.get("/api/health-list")
    def health_list():
        return jsonify(status="degraded", checks=[{"name": "db", "state": "pass", "took": {"ms": 4}},
                                                  {"name": "mail", "state": "fail", "took": {"ms": 900}}])

    @app.get("/metrics")
    def metrics():
        return Response(generate_latest(state.registry), content_type=CONTENT_TYPE_LATEST)

    @app.get("/many-metrics")
    def many_metrics():
        text = "".join(f'shop_item_views_total{{item="{i}"}} {i}\n' for i in range(50))
        return Response("# TYPE shop_item_views_total counter\n" + text, content_type="text/plain")

    @app.get("/slow")
    def slow():
        time.sleep(3)
        return "finally"

    @app.get("/error")
    def error():
        return "internal error", 500

    @app.get("/garbage-json")
    def garbage_json():
        return Response('{"status": "ok", "checks": {', content_type="application/json")

    @app.get("/huge")
    def huge():
        chunk = b"x" * 65536

        def body():
            for _ in itertools.repeat(None, HUGE_BYTES // len(chunk)):
                state.huge_sent += len(chunk)
                yield chunk
        return Response(body(), content_type="application/octet-stream")

    @app.get("/loop")
    def loop():
        return redirect("/loop-again")

    @app.get("/loop-again")
    def loop_again():
        return redirect("/loop")

    @app.get("/moved")
    def moved():
        return redirect("/ok")

    @app.get("/elsewhere")
    def elsewhere():
        port = request.host.rsplit(":", 1)[1]
        return redirect(f"http://localhost:{port}/ok")

    @app.get("/not-metrics")
    def not_metrics():
        return "<html><body>Welcome to the shop</body></html>"

    return app


class Served:
    def __init__(self, server: BaseWSGIServer, scheme: str) -> None:
        self.server = server
        self.url = f"{scheme}://127.0.0.1:{server.server_port}"
        self.port = server.server_port
        self.thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Http11Handler(WSGIRequestHandler):
    protocol_version = "HTTP/1.1"  # a body of unknown length goes out chunked


def serve(app: Flask, ssl_context=None) -> Served:
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context,
                         request_handler=_Http11Handler)
    return Served(server, "https" if ssl_context else "http")


class ServedWaitress:
    """The app under waitress, which keeps connections alive (werkzeug's server never does)."""

    def __init__(self, app: Flask) -> None:
        import waitress

        self.server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.close()
        self.thread.join(5)
