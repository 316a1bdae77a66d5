"""Scale-out benchmark: 500 targets collected by 1, 2 and 4 worker processes.

Each configuration gets a fresh PostgreSQL store; the targets are cheap HTTP
probes of a local app served by this process. Workers run as real
``app.py --role worker`` processes. After a warm-up, over a measuring window:

- cycle: per target, the gap between consecutive collections (wanted: the
  interval); median and p95 over all targets, and the share of targets that
  got every expected collection;
- write rate: sample rows stored per second (all workers together);
- collect duration: median ``lookout_collect_duration_seconds``;
- evaluator: one ``AlertEngine.evaluate()`` cycle over a rule with one
  instance per target (500), timed in this process while the workers run
  (the workers' own config has no rules, so it is the only evaluator).

    .venv/bin/python bench/bench_cluster.py
    .venv/bin/python bench/bench_cluster.py --targets 500 --workers 1 2 4 --interval 5 --window 30
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg
import yaml
from psycopg import sql

from composition.config import parse_config
from store import Store
from tests.cluster.harness import Cluster, serve_http

ADMIN = os.environ.get("LOOKOUT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def run(n_workers: int, n_targets: int, interval: float, window: float, tmp: Path) -> dict:
    db = f"lookout_bench_cluster_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_dsn(ADMIN), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
    store_url = ADMIN.rsplit("/", 1)[0] + "/" + db
    app = serve_http()
    base = f"http://127.0.0.1:{app.server_address[1]}"
    cfg = {"store": {"url": store_url},
           "targets": [{"name": f"t{i:03d}", "kind": "http", "url": f"{base}/{i}", "interval": f"{interval:g}s"}
                       for i in range(n_targets)]}
    path = tmp / f"cluster-{n_workers}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    cluster = Cluster(path, tmp)
    try:
        procs = [cluster.worker(f"w{n_workers}-{i}") for i in range(n_workers)]
        for p in procs:
            cluster.wait_http(p, "/metrics", timeout=120)
        time.sleep(3 * interval)  # leases settle
        t0 = time.time()
        evals = _evaluate(store_url, n_targets, t0 + window)
        t1 = time.time()
        return {"workers": n_workers, **_measure(_dsn(store_url), t0, t1, interval, n_targets), **evals}
    finally:
        cluster.stop_all()
        app.shutdown()
        app.server_close()
        with psycopg.connect(_dsn(ADMIN), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))


def _evaluate(store_url: str, n_targets: int, until: float) -> dict:
    from alerts.engine import AlertEngine
    rules = {"alerting": {"rules": [{"name": "bench_down", "op": "<", "critical": 1,
                                     "expr": {"metric": "lookout_target_up", "agg": "last", "window": "30s"}}]}}
    config = parse_config(yaml.safe_dump(rules))
    store = Store(store_url)
    engine = AlertEngine(config, store)
    times, instances = [], 0
    try:
        while time.time() < until:
            report = engine.evaluate()
            times.append(report.duration)
            instances = report.instances
            time.sleep(max(0.0, 2.0 - report.duration))
    finally:
        store.close()
    return {"eval_median_s": statistics.median(times[1:] or times), "eval_instances": instances}


def _measure(dsn: str, t0: float, t1: float, interval: float, n_targets: int) -> dict:
    with psycopg.connect(dsn) as conn:
        up = conn.execute("SELECT s.labels, p.ts FROM samples p JOIN series s ON s.id = p.series_id "
                          "WHERE s.name = 'lookout_target_up' AND p.ts >= %s AND p.ts < %s ORDER BY p.ts",
                          (int(t0 * 1000), int(t1 * 1000))).fetchall()
        rows = conn.execute("SELECT count(*) FROM samples WHERE ts >= %s AND ts < %s",
                            (int(t0 * 1000), int(t1 * 1000))).fetchone()[0]
        dur = conn.execute("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY p.value) FROM samples p "
                           "JOIN series s ON s.id = p.series_id WHERE s.name = 'lookout_collect_duration_seconds' "
                           "AND p.ts >= %s", (int(t0 * 1000),)).fetchone()[0]
    per: dict[str, list[float]] = {}
    for labels, ts in up:
        per.setdefault(json.loads(labels)["target"], []).append(ts / 1000)
    gaps = sorted(b - a for ts in per.values() for a, b in itertools.pairwise(ts))
    expected = int((t1 - t0) / interval)
    complete = sum(1 for ts in per.values() if len(ts) >= expected) / n_targets
    return {"gap_median_s": statistics.median(gaps), "gap_p95_s": gaps[int(0.95 * (len(gaps) - 1))],
            "min_gap_s": gaps[0], "complete": complete, "collections_per_s": len(up) / (t1 - t0),
            "rows_per_s": rows / (t1 - t0), "collect_median_s": dur or 0.0}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--targets", type=int, default=500)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    p.add_argument("--interval", type=float, default=5.0)
    p.add_argument("--window", type=float, default=30.0)
    a = p.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as d:
        for n in a.workers:
            r = run(n, a.targets, a.interval, a.window, Path(d))
            print(json.dumps(r), flush=True)
            results.append(r)
    print(f"\n{a.targets} http targets, interval {a.interval:g}s, window {a.window:g}s\n")
    print("| workers | gap median s | gap p95 s | min gap s | targets complete | collections/s | "
          "rows/s | collect median ms | eval cycle ms (instances) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['workers']} | {r['gap_median_s']:.2f} | {r['gap_p95_s']:.2f} | {r['min_gap_s']:.2f} | "
              f"{r['complete']:.0%} | {r['collections_per_s']:.0f} | {r['rows_per_s']:.0f} | "
              f"{r['collect_median_s'] * 1000:.1f} | {r['eval_median_s'] * 1000:.0f} ({r['eval_instances']}) |")


if __name__ == "__main__":
    main()
