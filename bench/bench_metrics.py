"""Benchmark of the /metrics exporter against prometheus_client.

    .venv/bin/python bench/bench_metrics.py [--scrapes 300] [--updates 300]

For 1,000 and 10,000 series (20 targets, families with 2-4 labels) it measures
(a) one ``Snapshot.update()`` of one target, i.e. the re-render cost of one
collection, and (b) ``GET /metrics`` latency over real HTTP (waitress on
127.0.0.1, keep-alive http.client), text and OpenMetrics, with and without
gzip. "gzip, new version" updates a target before each scrape, so every scrape
compresses: with 20 targets collected every 15 s that is the usual case.
Lookout's bodies carry the ``process_*`` families of the process, read at each
scrape (``exporter.process``); rows marked "no process families" are the same
snapshot without them, and one row times ``ProcessBlock.render()`` alone.

Peer, in the same run: prometheus_client's ``generate_latest()`` (0.0.4 and
OpenMetrics) over a registry whose custom collector yields the same families,
timed in-process and served by ``make_wsgi_app`` under the same waitress.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import logging
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import waitress
from flask import Flask
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client import generate_latest as pc_generate_text
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, UnknownMetricFamily
from prometheus_client.openmetrics.exposition import generate_latest as pc_generate_om

import exporter.views
from core.samples import Sample
from exporter.process import ProcessBlock
from exporter.snapshot import GZIP_LEVEL, Snapshot

TARGETS = 20
OM_ACCEPT = "application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3"

# (name, kind, extra label names): postgres_exporter, redis_exporter and
# Lookout-style families; every series also has the "target" label.
FAMILIES: list[tuple[str, str, tuple[str, ...]]] = [
    ("pg_stat_database_blks_hit", "counter", ("datid", "datname")),
    ("pg_stat_database_blks_read", "counter", ("datid", "datname")),
    ("pg_stat_database_xact_commit", "counter", ("datid", "datname")),
    ("pg_stat_database_xact_rollback", "counter", ("datid", "datname")),
    ("pg_stat_database_tup_fetched", "counter", ("datid", "datname")),
    ("pg_stat_database_numbackends", "gauge", ("datid", "datname")),
    ("pg_stat_activity_count", "gauge", ("datname", "state", "usename")),
    ("pg_stat_activity_max_tx_duration", "gauge", ("datname", "state", "usename")),
    ("pg_locks_count", "gauge", ("datname", "mode")),
    ("pg_stat_user_tables_seq_scan", "counter", ("datname", "schemaname", "relname")),
    ("pg_stat_user_tables_n_live_tup", "gauge", ("datname", "schemaname", "relname")),
    ("pg_statio_user_tables_heap_blks_hit", "counter", ("datname", "schemaname", "relname")),
    ("redis_commands_total", "counter", ("cmd", "db")),
    ("redis_commands_duration_seconds_total", "counter", ("cmd", "db")),
    ("redis_keyspace_hits_total", "counter", ("db", "shard")),
    ("redis_keyspace_misses_total", "counter", ("db", "shard")),
    ("redis_db_keys", "gauge", ("db", "shard")),
    ("redis_memory_used_bytes", "gauge", ("role", "shard")),
    ("lookout_http_requests_total", "counter", ("method", "route", "status")),
    ("lookout_http_request_duration_seconds", "summary", ("method", "route", "quantile")),
    ("lookout_pool_connections", "gauge", ("pool", "state")),
    ("lookout_business_orders_total", "counter", ("shop", "channel", "currency")),
    ("lookout_business_payment_failures_total", "counter", ("shop", "provider", "reason")),
    ("lookout_statement_mean_seconds", "gauge", ("datname", "queryid", "usename")),
    ("lookout_statement_calls_total", "counter", ("datname", "queryid", "usename")),
]
HELP = {name: f"{name.replace('_', ' ').capitalize()} (benchmark family)." for name, _, _ in FAMILIES}


def target_samples(target: str, per_target: int, rng: random.Random) -> list[Sample]:
    out: list[Sample] = []
    per_family, extra = divmod(per_target, len(FAMILIES))
    for i, (name, kind, labels) in enumerate(FAMILIES):
        for j in range(per_family + (1 if i < extra else 0)):
            values = {lab: f"{lab}_{(j * 7 + k) % 97}_{j}" for k, lab in enumerate(labels)}
            if "quantile" in values:  # a summary's quantile is a number
                values["quantile"] = ("0.5", "0.9", "0.99")[j % 3]
            value = float(rng.randrange(10**9)) if kind == "counter" else rng.random() * 1000
            out.append(Sample(name, value, {"target": target, **values}, kind, HELP[name]))
    return out


def build(series: int, seed: int = 1) -> dict[str, list[Sample]]:
    rng = random.Random(seed)
    return {f"target{t:02d}": target_samples(f"target{t:02d}", series // TARGETS, rng) for t in range(TARGETS)}


class EquivalentCollector:
    """The same families through prometheus_client's metric family types."""

    def __init__(self, batches: dict[str, list[Sample]]) -> None:
        self.batches = batches

    def collect(self) -> Iterable:
        for name, kind, _ in FAMILIES:
            if kind == "gauge":
                fam = GaugeMetricFamily(name, HELP[name], labels=None)
            elif kind == "summary":
                fam = Metric(name, HELP[name], "summary")
            elif name.endswith("_total"):
                fam = CounterMetricFamily(name, HELP[name])
            else:
                fam = UnknownMetricFamily(name, HELP[name])
            for samples in self.batches.values():
                for s in samples:
                    if s.name == name:
                        fam.add_sample(name, dict(s.labels), s.value)
            yield fam


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def summary_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.3f} | {pct(values, 0.95) * 1e3:.3f}"


def timed(fn: Callable[[], object], n: int, before: Callable[[], object] | None = None) -> list[float]:
    out = []
    for _ in range(n):
        if before is not None:
            before()
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


class Server:
    def __init__(self, app, **adjustments) -> None:
        self.server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4, **adjustments)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def get(self, headers: dict[str, str]) -> int:
        self.conn.request("GET", "/metrics", headers=headers)
        response = self.conn.getresponse()
        body = response.read()
        assert response.status == 200, response.status
        return len(body)

    def close(self) -> None:
        self.conn.close()
        # Let the worker thread finish the last task (it pokes the server's
        # trigger pipe afterwards) before the pipe is closed.
        self.server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
        self.server.close()


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return (f"nproc {os.cpu_count()}, CPU {cpu}, RAM {mem_kb / 1024**2:.1f} GiB, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scrapes", type=int, default=300)
    parser.add_argument("--updates", type=int, default=300)
    args = parser.parse_args()
    # "Task queue depth is 1" when a scrape arrives while the peer still renders.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    print(f"machine: {machine()}")
    print(f"command: .venv/bin/python bench/bench_metrics.py --scrapes {args.scrapes} --updates {args.updates}\n")
    rows: list[str] = []
    for series in (1_000, 10_000):
        batches = build(series)
        snap = Snapshot()
        for target, samples in batches.items():
            snap.update(target, samples)
        assert snap.series_count() == series, snap.series_count()
        rng = random.Random(2)
        fresh = [target_samples("target07", series // TARGETS, rng) for _ in range(8)]
        it = iter(range(10**9))

        def update_one() -> None:
            snap.update("target07", fresh[next(it) % len(fresh)])

        update = timed(update_one, args.updates)
        bare = Snapshot(process=False)
        for target, samples in batches.items():
            bare.update(target, samples)
        block = ProcessBlock()
        process_render = timed(lambda: block.render(False), 300)
        sizes = (len(snap.body(False)), len(snap.body(True)), len(snap.body(False, gzipped=True)))
        gz_only = timed(lambda: gzip.compress(snap.body(False), compresslevel=GZIP_LEVEL, mtime=0), 30)

        registry = CollectorRegistry(auto_describe=False)
        registry.register(EquivalentCollector(batches))
        pc_text = timed(lambda: pc_generate_text(registry), max(20, args.scrapes // 10))
        pc_om = timed(lambda: pc_generate_om(registry), max(20, args.scrapes // 10))

        app = Flask("bench")
        exporter.views.init_app(app, snap)
        ours = Server(app)
        peer = Server(make_wsgi_app(registry))
        # waitress spills a response over outbuf_overflow (1 MiB by default) to
        # a temporary file; the 10,000-series body is 1.1 MB.
        roomy = Server(app, outbuf_overflow=8 * 2**20)
        bare_app = Flask("bench-bare")
        exporter.views.init_app(bare_app, bare)
        without = Server(bare_app)
        try:
            cases = [
                ("text", {}, None), ("OpenMetrics", {"Accept": OM_ACCEPT}, None),
                ("text, gzip", {"Accept-Encoding": "gzip"}, None),
                ("OpenMetrics, gzip", {"Accept": OM_ACCEPT, "Accept-Encoding": "gzip"}, None),
                ("text, gzip, new version", {"Accept-Encoding": "gzip"}, update_one),
                ("OpenMetrics, gzip, new version", {"Accept": OM_ACCEPT, "Accept-Encoding": "gzip"},
                 update_one),
            ]
            for label, headers, before in cases:
                for _ in range(10):
                    ours.get(headers)
                ms = timed(lambda h=headers: ours.get(h), args.scrapes, before)
                rows.append(f"| {series:,} | Lookout /metrics, {label} | {summary_ms(ms)} |")
            for label, headers in (("text", {}), ("OpenMetrics", {"Accept": OM_ACCEPT})):
                for _ in range(10):
                    roomy.get(headers)
                ms = timed(lambda h=headers: roomy.get(h), args.scrapes)
                rows.append(f"| {series:,} | Lookout /metrics, {label}, waitress outbuf_overflow=8 MiB "
                            f"| {summary_ms(ms)} |")
            for label, headers in (("text", {}), ("text, gzip", {"Accept-Encoding": "gzip"})):
                for _ in range(10):
                    without.get(headers)
                ms = timed(lambda h=headers: without.get(h), args.scrapes)
                rows.append(f"| {series:,} | Lookout /metrics, {label}, no process families | {summary_ms(ms)} |")
            peer_n = max(20, args.scrapes // 10)
            for label, headers in (("text", {}), ("OpenMetrics", {"Accept": OM_ACCEPT}),
                                   ("text, gzip", {"Accept-Encoding": "gzip"})):
                for _ in range(3):
                    peer.get(headers)
                ms = timed(lambda h=headers: peer.get(h), peer_n)
                rows.append(f"| {series:,} | prometheus_client make_wsgi_app, {label} | {summary_ms(ms)} |")
        finally:
            ours.close()
            peer.close()
            roomy.close()
            without.close()
        rows.append(f"| {series:,} | Lookout `Snapshot.update()` of one target ({series // TARGETS} series) "
                    f"| {summary_ms(update)} |")
        rows.append(f"| {series:,} | `ProcessBlock.render()` (the process families, paid by every scrape) "
                    f"| {summary_ms(process_render)} |")
        rows.append(f"| {series:,} | gzip level {GZIP_LEVEL} of the whole text body (paid once per version) "
                    f"| {summary_ms(gz_only)} |")
        rows.append(f"| {series:,} | prometheus_client `generate_latest()` 0.0.4, in-process | {summary_ms(pc_text)} |")
        rows.append(f"| {series:,} | prometheus_client OpenMetrics `generate_latest()`, in-process "
                    f"| {summary_ms(pc_om)} |")
        print(f"{series:,} series: text {sizes[0]:,} B, OpenMetrics {sizes[1]:,} B, text gzip {sizes[2]:,} B")
    print("\n| series | what | median ms | p95 ms |\n|---:|---|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
