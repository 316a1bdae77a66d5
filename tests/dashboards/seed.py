"""Known values for the dashboard tests, written through the store's and the pipeline's public methods."""
from __future__ import annotations

from core.samples import Batch, Sample

STEP = 15.0
CONFIG = """\
targets:
  - {name: shop-db, kind: postgres, dsn: "postgresql://lookout@127.0.0.1:1/shop"}
  - {name: shop-cache, kind: redis, url: "redis://127.0.0.1:1/0"}
  - name: shop-api
    kind: http
    base_url: http://127.0.0.1:1
    probes: [{name: home, url: /}]
  - name: shop-sql
    kind: sql
    url: postgresql+psycopg://lookout@127.0.0.1:1/shop
    queries:
      - {name: revenue, sql: "select 1", metric: shop_revenue_total, help: "Revenue.", kind: counter}
alerting:
  rules:
    - name: CacheHitRateLow
      ratio:
        numerator: {metric: redis_keyspace_hits_total, agg: increase, window: 5m}
        denominator:
          - {metric: redis_keyspace_hits_total, agg: increase, window: 5m}
          - {metric: redis_keyspace_misses_total, agg: increase, window: 5m}
      op: "<"
      warning: 0.95
      critical: 0.9
      annotations:
        summary: "Cache hit rate {value:.0%} on {labels[target]}, below {threshold:.0%}"
"""
HIT_RATIO = 0.8          # 80 hits and 20 misses per step
REVENUE_PER_STEP = 10.0  # -> 2,400 per hour
P95 = 0.25               # seconds
DB_ERROR = "connection refused by 127.0.0.1:1"
SUMMARY = "Cache hit rate 80% on shop-cache, below 90%"
STATEMENTS_REASON = "the pg_stat_statements extension is not installed in database 'shop'"


def samples_at(i: int) -> list[Sample]:
    c = "counter"
    return [
        Sample("redis_keyspace_hits_total", 80.0 * i, {"target": "shop-cache"}, c),
        Sample("redis_keyspace_misses_total", 20.0 * i, {"target": "shop-cache"}, c),
        Sample("redis_memory_used_bytes", 50e6 + (i % 40) * 1e5, {"target": "shop-cache"}),
        Sample("redis_memory_max_bytes", 100e6, {"target": "shop-cache"}),
        Sample("redis_evicted_keys_total", 2.0 * i, {"target": "shop-cache"}, c),
        Sample("shop_revenue_total", REVENUE_PER_STEP * i, {"target": "shop-sql", "query": "revenue"}, c),
        Sample("lookout_http_app_request_duration_seconds", P95,
               {"target": "shop-api", "probe": "home", "route": "*", "quantile": "0.95"}),
        Sample("lookout_http_app_request_duration_seconds", 0.05,
               {"target": "shop-api", "probe": "home", "route": "*", "quantile": "0.5"}),
        Sample("lookout_http_probe_duration_seconds", 0.02,
               {"target": "shop-api", "probe": "home", "phase": "total"}),
        Sample("pg_stat_activity_count", 5.0, {"target": "shop-db", "datname": "shop", "state": "active"}),
        Sample("pg_stat_activity_count", 12.0, {"target": "shop-db", "datname": "shop", "state": "idle"}),
        Sample("pg_settings_max_connections", 100.0, {"target": "shop-db"}),
        Sample("pg_database_size_bytes", 2e9 + i * 1e5, {"target": "shop-db", "datname": "shop"}),
        Sample("pg_stat_database_blks_hit", 990.0 * i, {"target": "shop-db", "datname": "shop"}, c),
        Sample("pg_stat_database_blks_read", 10.0 * i, {"target": "shop-db", "datname": "shop"}, c),
    ]


def seed(runtime, now: float, hours: float = 2.0) -> None:
    """Two hours of 15-second data; shop-db went down for the last poll."""
    steps = int(hours * 3600 / STEP)
    store = runtime.store
    for i in range(steps + 1):
        ts = now - (steps - i) * STEP
        ups = [Sample("lookout_target_up", 1.0, {"target": t})
               for t in ("shop-cache", "shop-sql", "shop-api")]
        ups.append(Sample("lookout_target_up", 0.0 if i == steps else 1.0, {"target": "shop-db"}))
        store.write_samples(ts, samples_at(i) + ups)
    for target, kind in (("shop-cache", "redis"), ("shop-sql", "sql"), ("shop-api", "http")):
        runtime.pipeline.handle(Batch(target=target, kind=kind, started_at=now), interval=STEP)
    runtime.pipeline.handle(Batch(target="shop-db", kind="postgres", started_at=now - STEP, documents={
        "pg_stat_statements": {"available": False, "reason": STATEMENTS_REASON, "top": []},
    }), interval=STEP)
    runtime.pipeline.handle(Batch(target="shop-db", kind="postgres", started_at=now, up=False,
                                  error=DB_ERROR), interval=STEP)
    # Evaluate half an hour ago and now: the hit-rate rule fires, with a transition in view.
    engine = runtime.alert_engine
    engine.evaluate(now - 1800)
    engine.evaluate(now)
