"""Store benchmark: ingest rate and downsampled range-query latency.

Runs on SQLite (a temp file) and PostgreSQL (a fresh temp database, dropped
afterwards) and prints a markdown table::

    .venv/bin/python bench/bench_store.py
    .venv/bin/python bench/bench_store.py --backends sqlite --runs 5

(1) ingest: batches of ``--batch-size`` samples written with
``Store.write_batch`` as a collection would, samples/s, median of
``--ingest-runs`` runs of ``--ingest-batches`` batches each.
(2) query: ``--series`` series at ``--step`` s over ``--hours`` hours,
downsampled to ``--points`` buckets by one ``query_range`` call; median and
p95 over ``--runs`` runs, on raw samples only and again after ``rollup()``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from core.samples import Batch, Sample
from store import Store
from store.schema import samples

T_END = 1_700_000_000.0


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def bench_ingest(store: Store, args: argparse.Namespace) -> float:
    rates = []
    t = T_END - 10 * 86400
    for _run in range(args.ingest_runs):
        batches = []
        for b in range(args.ingest_batches):
            t += 1
            batches.append(Batch(target=f"t{b % 10}", kind="bench", started_at=t, duration=0.01, samples=[
                Sample("bench_ingest", float(i + b), {"target": f"t{b % 10}", "i": str(i)})
                for i in range(args.batch_size)]))
        t0 = time.perf_counter()
        n = sum(store.write_batch(batch, interval=15) for batch in batches)
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates)


def load_query_data(store: Store, args: argparse.Namespace) -> None:
    n_points = int(args.hours * 3600 / args.step)
    start = T_END - args.hours * 3600
    # Create the series through the API, then bulk-load: loading is not what is measured.
    store.write_samples(start, [Sample("bench_q", 0.0, {"i": str(i)}) for i in range(args.series)])
    ids = [s.id for s in store.select_series("bench_q")]
    rows = [{"series_id": sid, "ts": int((start + k * args.step) * 1000),
             "value": float((k * 7 + sid) % 100)} for k in range(1, n_points) for sid in ids]
    with store.engine.begin() as conn:
        for i in range(0, len(rows), 20_000):
            conn.execute(samples.insert(), rows[i:i + 20_000])


def bench_query(store: Store, args: argparse.Namespace) -> tuple[float, float, int]:
    times = []
    n = 0
    for _ in range(args.runs):
        t0 = time.perf_counter()
        res = store.query_range("bench_q", None, T_END - args.hours * 3600, T_END, points=args.points)
        times.append(time.perf_counter() - t0)
        n = sum(len(r.points) for r in res)
    return statistics.median(times), _p95(times), n


def run_backend(name: str, url: str, args: argparse.Namespace) -> dict:
    store = Store(url, clock=lambda: T_END + 300)
    store.migrate()
    try:
        out: dict = {"backend": name, "ingest": bench_ingest(store, args)}
        load_query_data(store, args)
        out["raw"] = bench_query(store, args)
        t0 = time.perf_counter()
        out["rollup_rows"] = store.rollup(now=T_END + 300)
        out["rollup_s"] = time.perf_counter() - t0
        out["rolled"] = bench_query(store, args)
        return out
    finally:
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", default="sqlite,postgresql")
    pg_default = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    ap.add_argument("--pg-url", default=os.environ.get("LOOKOUT_TEST_PG",
                                                       pg_default))
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--ingest-batches", type=int, default=200)
    ap.add_argument("--ingest-runs", type=int, default=5)
    ap.add_argument("--series", type=int, default=50)
    ap.add_argument("--hours", type=float, default=24)
    ap.add_argument("--step", type=float, default=15)
    ap.add_argument("--points", type=int, default=500)
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()

    results = []
    for backend in args.backends.split(","):
        if backend == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results.append(run_backend("SQLite", f"sqlite:///{tmp}/bench.db", args))
        elif backend == "postgresql":
            admin = make_url(args.pg_url)
            dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
            db = f"lookout_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
            try:
                url = admin.set(database=db).render_as_string(hide_password=False)
                results.append(run_backend("PostgreSQL", url, args))
            finally:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
        else:
            ap.error(f"unknown backend {backend!r}")

    n_pts = int(args.hours * 3600 / args.step)
    print(f"\ningest: {args.ingest_runs} runs x {args.ingest_batches} batches x {args.batch_size} samples; "
          f"query: {args.series} series x {n_pts} points over {args.hours:g} h -> {args.points} points, "
          f"{args.runs} runs\n")
    print("| backend | ingest samples/s (median) | query raw median ms | raw p95 ms "
          "| rollup time s | query after rollup median ms | after rollup p95 ms | buckets returned |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['backend']} | {r['ingest']:,.0f} | {r['raw'][0] * 1000:.0f} | {r['raw'][1] * 1000:.0f} "
              f"| {r['rollup_s']:.1f} | {r['rolled'][0] * 1000:.0f} | {r['rolled'][1] * 1000:.0f} "
              f"| {r['rolled'][2]:,} |")


if __name__ == "__main__":
    main()
