"""The demo shop: a small Flask API over PostgreSQL with a Redis cache.

It behaves like the backends Lookout watches: a SQLAlchemy pool it reports
as JSON (/api/pool), a cache that says HIT or MISS (X-Cache), a health
endpoint with per-dependency status and timings (/api/health), and
Prometheus request metrics with a latency histogram (/metrics).
"""
from __future__ import annotations

import json
import random
import threading
import time

import redis
from flask import Flask, abort, jsonify, request
from sqlalchemy import QueuePool, create_engine, text

from demo.shop import metrics
from demo.shop.scenarios import Scenarios

POOL_SIZE, MAX_OVERFLOW = 5, 3
# A healthy shop keeps its promise ("payment failures under 2 %") with room to spare: at exactly
# 2 % it would burn its error budget at 1x, where a ticket-level burn-rate alert flips on noise.
NORMAL_FAILURE_RATE, OUTAGE_FAILURE_RATE = 0.01, 0.6
HOLD_SECONDS = 0.3  # pool_exhaustion: each request holds its connection this much longer


class PoolGauge:
    """Counts clients waiting for a pooled connection (SQLAlchemy does not)."""

    def __init__(self) -> None:
        self.waiting = 0
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        with self._lock:
            self.waiting += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.waiting -= 1


def create_shop(db_url: str, redis_url: str, scenarios: Scenarios, *, seed: int | None = None) -> Flask:
    app = Flask("demo-shop")
    engine = create_engine(db_url, pool_size=POOL_SIZE, max_overflow=MAX_OVERFLOW, pool_timeout=3,
                           pool_pre_ping=True, connect_args={"application_name": "demo-shop",
                                                             "options": "-c statement_timeout=8000"})
    cache = redis.Redis.from_url(redis_url, socket_timeout=0.3, socket_connect_timeout=0.3)
    waiting = PoolGauge()
    rng = random.Random(seed)
    metrics.init_app(app)

    def connect():
        with waiting:
            conn = engine.connect()
        if scenarios.active("pool_exhaustion"):
            # Slow work while holding the connection (in Python, not in SQL: a pg_sleep
            # statement would also move the query-time panels and alerts).
            time.sleep(HOLD_SECONDS)
        return conn

    def cache_get(key: str) -> bytes | None:
        try:
            return cache.get(key)  # type: ignore[return-value]  # no decode_responses: bytes
        except redis.RedisError:
            return None

    def cache_set(key: str, value: str) -> None:
        # A stampede: entries expire almost at once. With 1 s the hottest product (over half of
        # all views, ~9 a second) still hit 8 times in 9 and the hit rate stayed near 70 %.
        ttl_ms = 20 if scenarios.active("cache_stampede") else 300_000
        try:
            cache.set(key, value, px=ttl_ms)
        except redis.RedisError:
            pass

    @app.get("/api/products/<int:pid>")
    def product(pid: int):
        key = f"product:{pid}"
        hit = cache_get(key)
        if hit is not None:
            return app.response_class(hit, mimetype="application/json", headers={"X-Cache": "HIT"})
        with connect() as conn:
            row = conn.execute(text("SELECT id, name, price_cents, stock, description FROM products WHERE id = :id"),
                               {"id": pid}).mappings().first()
        if row is None:
            abort(404)
        body = json.dumps(dict(row))
        cache_set(key, body)
        return app.response_class(body, mimetype="application/json", headers={"X-Cache": "MISS"})

    @app.post("/api/orders")
    def order():
        data = request.get_json(force=True)
        items = data["items"]
        with connect() as conn, conn.begin():
            prices = dict(conn.execute(text("SELECT id, price_cents FROM products WHERE id = ANY(:ids)"),
                                       {"ids": [i["product_id"] for i in items]}).all())
            total = sum(prices[i["product_id"]] * i["quantity"] for i in items if i["product_id"] in prices)
            oid = conn.execute(text("INSERT INTO orders (customer_id, total_cents) VALUES (:c, :t) RETURNING id"),
                               {"c": data["customer_id"], "t": total}).scalar_one()
            conn.execute(text("INSERT INTO order_items (order_id, product_id, quantity, price_cents) "
                              "VALUES (:o, :p, :q, :c)"),
                         [{"o": oid, "p": i["product_id"], "q": i["quantity"], "c": prices[i["product_id"]]}
                          for i in items if i["product_id"] in prices])
        # The payment provider is called outside the transaction, as a real shop would.
        rate = OUTAGE_FAILURE_RATE if scenarios.active("payment_outage") else NORMAL_FAILURE_RATE
        provider_ms = rng.randint(20, 80)
        time.sleep(provider_ms / 1000)
        status = "failed" if rng.random() < rate else "succeeded"
        with connect() as conn, conn.begin():
            conn.execute(text("INSERT INTO payments (order_id, amount_cents, status, provider_ms) "
                              "VALUES (:o, :a, :s, :m)"), {"o": oid, "a": total, "s": status, "m": provider_ms})
            conn.execute(text("UPDATE orders SET status = :s WHERE id = :o"),
                         {"s": "paid" if status == "succeeded" else "payment_failed", "o": oid})
        return jsonify(order_id=oid, total_cents=total, payment=status), 201 if status == "succeeded" else 402

    @app.get("/api/customers/<int:cid>/report")
    def report(cid: int):
        sleep = 0.3 if scenarios.active("slow_query") else 0.0
        with connect() as conn:
            row = conn.execute(text(
                "SELECT count(*) AS orders, coalesce(sum(total_cents), 0) AS spent, max(created_at) AS last, "
                "pg_sleep(:sleep) IS NULL AS slept FROM orders WHERE customer_id = :c"),
                {"c": cid, "sleep": sleep}).mappings().one()
        return jsonify(customer_id=cid, orders=row["orders"], spent_cents=row["spent"],
                       last_order=row["last"].isoformat() if row["last"] else None)

    @app.get("/api/health")
    def health():
        checks = {}
        for name, probe in (("database", lambda: engine.connect().close()), ("cache", cache.ping)):
            t0 = time.perf_counter()
            try:
                probe()
                checks[name] = {"status": "up", "latency_ms": round((time.perf_counter() - t0) * 1000, 2)}
            except Exception as exc:  # noqa: BLE001 - any failure is this dependency being down
                checks[name] = {"status": "down", "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
                                "error": exc.__class__.__name__}
        status = "ok" if all(c["status"] == "up" for c in checks.values()) else "degraded"
        return jsonify(status=status, checks=checks), 200 if status == "ok" else 503

    @app.get("/api/pool")
    def pool():
        p = engine.pool
        assert isinstance(p, QueuePool)  # create_engine's default for PostgreSQL, sized above
        return jsonify(size=p.size(), max=POOL_SIZE + MAX_OVERFLOW, checked_out=p.checkedout(),
                       idle=p.checkedin(), overflow=max(0, p.overflow()), waiting=waiting.waiting)

    app.extensions["shop_engine"] = engine
    return app
