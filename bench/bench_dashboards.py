"""Benchmark of the dashboard's refresh callbacks and the overview's first render.

    .venv/bin/python bench/bench_dashboards.py [--runs 15] [--stores sqlite,postgresql] [--no-browser]
                                               [--step 5] [--days 30]

The store holds 30 days of data for 100 series, shaped as production keeps it
(scaled down so a 2-core machine writes it in minutes, through Store methods
only): raw 15-second samples for the last 2 days (``retention.raw`` = 2 d in
this bench instead of 7 d), 60-second samples for days 2-7 and 5-minute samples
for days 7-30, then ``Store.rollup()`` and ``Store.apply_retention()``, so the
7-day view reads 1-minute rollups at their real density and the 30-day view
reads 1-hour rollups.

Per page and range it calls the page's refresh callback (the function Dash
runs for ``/_dash-update-component``) and reports the server time (p50, p95)
and the bytes of the JSON Dash would send (``plotly.io.json.to_json_plotly``
of the outputs, as Dash serialises them), twice:

- cold: the process's bucket cache emptied before each refresh (a first
  view, or the first refresh after a restart);
- warm: what an auto-refreshing viewer costs. A simulated clock moves
  ``--step`` seconds between refreshes, a poll of every series is written each
  15 s and the rollup job runs each minute, as in production; each timed
  refresh finds the cache the previous one left.

Then, in headless Chromium, the time from navigation to the overview fully
drawn (every graph has its SVG).

Targets (issue 6): p95 callback under 150 ms; no refresh above 200 kB.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from plotly.io.json import to_json_plotly

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from core.memory import freeze_startup_heap
from core.samples import Batch, Sample
from dashboards import bucket_cache
from store import Store
from store.config import Retention

DAY = 86400.0
RANGES = ["1h", "24h", "7d", "30d"]
PAGES = ["/", "/revenue", "/cache", "/latency", "/postgres", "/alerts"]
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
  - {name: shop-pool, kind: pool, max_connections: 100,
     apps: [{name: web, url: "http://127.0.0.1:1/p", fields: {in_use: $.a}}]}
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
"""


def series_at(i: int, ts: float) -> list[Sample]:
    """100 series over the metrics the pages read; counters grow, gauges wave."""
    c = "counter"
    wave = (i % 240) / 240.0
    out = [
        Sample("redis_keyspace_hits_total", 90.0 * i, {"target": "shop-cache"}, c),
        Sample("redis_keyspace_misses_total", 10.0 * i, {"target": "shop-cache"}, c),
        Sample("redis_evicted_keys_total", 1.0 * i, {"target": "shop-cache"}, c),
        Sample("redis_memory_used_bytes", 5e7 * (1 + wave), {"target": "shop-cache"}),
        Sample("redis_memory_max_bytes", 2e8, {"target": "shop-cache"}),
        Sample("lookout_http_cache_hits_total", 40.0 * i, {"target": "shop-api", "probe": "home"}, c),
        Sample("lookout_http_cache_misses_total", 5.0 * i, {"target": "shop-api", "probe": "home"}, c),
        Sample("shop_revenue_total", 25.0 * i, {"target": "shop-sql", "query": "revenue"}, c),
        Sample("shop_orders_total", 0.5 * i, {"target": "shop-sql", "query": "orders"}, c),
        Sample("pg_settings_max_connections", 100.0, {"target": "shop-db"}),
    ]
    for st, k in (("succeeded", 10.0), ("failed", 0.1)):
        out.append(Sample("shop_payments_total", k * i, {"target": "shop-sql", "status": st}, c))
    for t in ("shop-db", "shop-cache", "shop-api", "shop-sql", "shop-pool"):
        out.append(Sample("lookout_target_up", 0.0 if t == "shop-db" and i % 500 == 0 else 1.0, {"target": t}))
    for d in range(6):
        lab = {"target": "shop-db", "datname": f"db{d}"}
        out.append(Sample("pg_stat_database_blks_hit", 900.0 * i, lab, c))
        out.append(Sample("pg_stat_database_blks_read", 9.0 * i, lab, c))
        out.append(Sample("pg_database_size_bytes", 1e9 * (d + 1) + i * 1e3, lab))
    for s in ("active", "idle", "idle in transaction", "waiting"):
        out.append(Sample("pg_stat_activity_count", 5 + 10 * wave, {"target": "shop-db", "datname": "db0", "state": s}))
        out.append(Sample("pg_stat_activity_max_tx_duration", 2 * wave, {"target": "shop-db", "state": s}))
    for m in ("AccessShareLock", "RowExclusiveLock", "ExclusiveLock", "ShareLock"):
        out.append(Sample("pg_locks_count", 3 + wave, {"target": "shop-db", "datname": "db0", "mode": m}))
    out.append(Sample("lookout_pg_blocked_sessions", float(i % 50 == 0), {"target": "shop-db"}))
    out.append(Sample("pg_replication_lag_seconds", 0.5 * wave, {"target": "shop-db"}))
    for route in ("*", "/", "/cart", "/checkout", "/search", "/product", "/login", "/api/stock"):
        lab = {"target": "shop-api", "probe": "metrics", "route": route}
        for q, k in (("0.5", 0.05), ("0.95", 0.2), ("0.99", 0.4)):
            out.append(Sample("lookout_http_app_request_duration_seconds", k * (1 + wave), {**lab, "quantile": q}))
        out.append(Sample("lookout_http_app_error_ratio", 0.002 * (1 + wave), lab))
    for p in ("home", "cart", "search"):
        out.append(Sample("lookout_http_probe_duration_seconds", 0.03 * (1 + wave),
                          {"target": "shop-api", "probe": p, "phase": "total"}))
    for p in ("web", "worker"):
        out.append(Sample("lookout_pool_utilization_ratio", 0.5 + 0.3 * wave, {"target": "shop-pool", "pool": p}))
        out.append(Sample("lookout_pool_waiting_clients", float(i % 7), {"target": "shop-pool", "pool": p}))
    for db in range(6):
        out.append(Sample("redis_db_keys", 1e4 * (db + 1) * (1 + wave), {"target": "shop-cache", "db": f"db{db}"}))
    le_counts = {"0.05": 0.5, "0.1": 0.7, "0.25": 0.9, "0.5": 0.97, "1": 0.99, "+Inf": 1.0}
    for le, frac in le_counts.items():
        out.append(Sample("http_request_duration_seconds_bucket", 20.0 * frac * i,
                          {"target": "shop-api", "probe": "metrics", "le": le}, c))
    return out


def fill(runtime, now: float, days: int) -> tuple[int, float, int]:
    """Write the history oldest first (counters must grow), then roll up and expire raw."""
    store = runtime.store
    plan = [(days * DAY, 7 * DAY, 300.0), (7 * DAY, 2 * DAY, 60.0), (2 * DAY, 0.0, 15.0)]
    t0 = time.perf_counter()
    i = 0
    rows = 0
    for older, newer, step in plan:
        ts = now - older
        while ts <= now - newer:
            ss = series_at(i, ts)
            rows += store.write_samples(ts, ss)
            i += round(step / 15)
            ts += step
    for t, kind in (("shop-cache", "redis"), ("shop-api", "http"), ("shop-sql", "sql"), ("shop-pool", "pool")):
        runtime.pipeline.handle(Batch(target=t, kind=kind, started_at=now), interval=15)
    runtime.pipeline.handle(Batch(target="shop-db", kind="postgres", started_at=now, documents={
        "pg_stat_statements": {"available": True, "reason": None, "top": [
            {"queryid": str(q), "user": "shop", "datname": "shop", "calls": 1000.0 * q, "total_seconds": 3.0 * q,
             "mean_seconds": 0.003, "rows": 10.0 * q, "query": f"SELECT * FROM t{q} WHERE id = $1"}
            for q in range(1, 51)]},
    }), interval=15)
    store.rollup(now)
    store.apply_retention(now)
    runtime.alert_engine.evaluate(now)
    return rows, time.perf_counter() - t0, i


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, round(p / 100 * (len(xs) - 1))))
    return xs[k]


class SimClock:
    """The one clock of the bench's runtime and store, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Traffic:
    """Polls every 15 s and the rollup job every minute, while the simulated clock moves."""

    def __init__(self, runtime, clock: SimClock, poll_index: int) -> None:
        self.runtime, self.clock, self.i = runtime, clock, poll_index
        self.next_poll = clock.now + 15.0
        self.next_rollup = (clock.now // 60 + 1) * 60

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        while self.next_poll <= self.clock.now:
            self.runtime.store.write_samples(self.next_poll, series_at(self.i, self.next_poll))
            self.i += 1
            self.next_poll += 15.0
        if self.clock.now >= self.next_rollup:
            self.runtime.store.rollup(self.clock.now)
            self.next_rollup += 60.0


def stats(times: list[float]) -> tuple[float, float, float]:
    return statistics.median(times), pct(times, 95), max(times)


def bench_callbacks(app, runtime, traffic: Traffic, runs: int, step: float) -> list[tuple]:
    """Per page and range: (path, range, cold p50/p95/max, warm p50/p95/max, bytes)."""
    refreshers = app.extensions["lookout_dash_refreshers"]
    cache = bucket_cache.for_runtime(runtime)
    out = []
    for path in PAGES:
        fn = refreshers[path]
        for rng in RANGES:
            search = f"?range={rng}&refresh=5s"
            fn(search, 0, "light")  # warm the series-id cache and the database's page cache
            cold, size = [], 0
            for n in range(runs):
                traffic.advance(step)
                cache.clear()
                t0 = time.perf_counter()
                result = fn(search, n, "light")
                cold.append((time.perf_counter() - t0) * 1000)
                size = max(size, len(to_json_plotly({"response": result}).encode()))
            warm = []
            fn(search, 0, "light")  # the refresh before the first timed one fills the cache
            for n in range(runs):
                traffic.advance(step)
                t0 = time.perf_counter()
                result = fn(search, n, "light")
                warm.append((time.perf_counter() - t0) * 1000)
                size = max(size, len(to_json_plotly({"response": result}).encode()))
            out.append((path, rng, *stats(cold), *stats(warm), size))
    return out


def first_render(app, runs: int) -> list[float]:
    from dash.testing.browser import Browser
    from werkzeug.serving import make_server

    from tests.dashboards.conftest import chrome_options, wait_rendered

    server = make_server("127.0.0.1", 0, app, threaded=True)
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()
    url = f"http://127.0.0.1:{server.server_port}/?range=24h&refresh=off"
    times = []
    try:
        with Browser(browser="Chrome", headless=False, options=[chrome_options()], percy_run=False,
                     wait_timeout=30) as br:
            br.driver.get(url)  # first load fetches the JS bundles; later loads hit the cache as a browser would
            wait_rendered(br, 60)
            for _ in range(runs):
                br.driver.get("about:blank")
                t0 = time.perf_counter()
                br.driver.get(url)
                wait_rendered(br, 60)
                times.append(time.perf_counter() - t0)
    finally:
        server.shutdown()
    return times


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpu = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")), "?")
    mem = next((ln.split()[1] for ln in meminfo if ln.startswith("MemTotal")), "0")
    chromium = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True,
                              check=False).stdout.strip()
    return (f"nproc {os.cpu_count()}, {cpu}, RAM {int(mem) / 1e6:.0f} GB, Python {platform.python_version()}, "
            f"{chromium}")


def make_store(kind: str, tmp: str) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp}/bench.db", lambda: None
    import psycopg
    admin = os.environ.get("LOOKOUT_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"lookout_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15, help="timed refreshes per page, range and cold/warm")
    ap.add_argument("--days", type=int, default=30, help="history to write")
    ap.add_argument("--stores", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--step", type=float, default=5.0, help="simulated seconds between refreshes (warm)")
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium first-render measurement")
    ap.add_argument("--no-gc-freeze", action="store_true",
                    help="skip core.memory.freeze_startup_heap(), which app.py calls before serving")
    args = ap.parse_args()
    import logging
    logging.disable(logging.WARNING)
    print(machine())
    for kind in args.stores.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            url, drop = make_store(kind, tmp)
            try:
                cfg = parse_config(CONFIG, env={})
                clock = SimClock(time.time())
                store = Store(url, retention=Retention(raw=2 * DAY, minute=30 * DAY, hour=365 * DAY), clock=clock)
                runtime = build_runtime(cfg, role="web", store=store, clock=clock)
                rows, secs, polls = fill(runtime, clock.now, args.days)
                n_series = len(store.select_series())
                print(f"\n## {kind}: {n_series} series, {rows:,} samples written in {secs:.0f} s "
                      f"(raw kept 2 d, then rollups)")
                app = create_app(cfg, runtime=runtime)
                if not args.no_gc_freeze:
                    freeze_startup_heap()  # as app.py does before serving
                print(f"gc.freeze after start-up: {'no' if args.no_gc_freeze else 'yes'}")
                print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
                print("| page | range | cold p50 ms | cold p95 ms | cold max ms | warm p50 ms | warm p95 ms "
                      "| warm max ms | largest refresh bytes |")
                print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
                results = bench_callbacks(app, runtime, Traffic(runtime, clock, polls), args.runs, args.step)
                for path, rng, c50, c95, cmx, w50, w95, wmx, size in results:
                    print(f"| {path} | {rng} | {c50:.1f} | {c95:.1f} | {cmx:.1f} | {w50:.1f} | {w95:.1f} "
                          f"| {wmx:.1f} | {size:,} |")
                print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
                st = bucket_cache.for_runtime(runtime).stats
                print(f"bucket cache: {st.hits} reads from kept buckets, {st.misses} whole-window reads, "
                      f"{st.buckets_reused:,} buckets reused")
                if not args.no_browser and kind == "sqlite":
                    times = first_render(app, 5)
                    print(f"\noverview first full render (24h, headless Chromium, warm JS cache): "
                          f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
                runtime.store.close()
            finally:
                drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
