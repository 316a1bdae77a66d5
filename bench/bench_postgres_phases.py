"""Where a default PostgreSQL poll's wall time goes, inside bench_postgres's own rounds.

Run: .venv/bin/python bench/bench_postgres_phases.py

Runs bench_postgres.measure() on the embedded PostgreSQL 18 with timers
wrapped around the collector's steps (monkeypatched here, nothing in the
product changes): the hand-off to the collect thread, the statement's
execute (send and wait: server work, the backend's uncounted work and the
wake-ups), fetching and decoding the JSON row, the row mappers (a
connection's group minus the two before) and run()'s own bookkeeping.
Connection.run is re-implemented here step by step (same calls) to time
inside it. Medians of the default cycle's 30 rounds.
"""
import collections
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import bench_postgres as bp
import psycopg
from psycopg.rows import tuple_row

import collectors.base as base
import collectors.postgres as pgc
from collectors.postgres import connection as cm

P = collections.defaultdict(list)
cur_name = {"v": None}
ns = time.perf_counter_ns

orig_run = base.Collector.run


def run(self):
    t0 = ns()
    self._t_submit = t0
    b = orig_run(self)
    t1 = ns()
    P[(self.target.name, "run")].append(t1 - t0)
    P[(self.target.name, "handback")].append(t1 - self._t_end)
    return b


base.Collector.run = run

orig_collect = pgc.PostgresCollector.collect


def collect(self):
    t0 = ns()
    P[(self.target.name, "handoff")].append(t0 - self._t_submit)
    r = orig_collect(self)
    P[(self.target.name, "collect")].append(ns() - t0)
    self._t_end = ns()
    return r


pgc.PostgresCollector.collect = collect



def crun(self, statements):
    conn = self.open()
    query = self._merged.get(tuple(statements)) or self._merged.setdefault(tuple(statements), cm.merged(statements))
    t0 = ns()
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute(query, prepare=self.prepare)
    t1 = ns()
    row = cur.fetchone()
    t2 = ns()
    self.round_trips += 1
    P[(self._tag, "execute")].append(t1 - t0)
    P[(self._tag, "fetch+json")].append(t2 - t1)
    return row[0]


cm.Connection.run = crun
cm.Connection._tag = "?"

orig_rg = pgc.PostgresCollector._run_group


def rg(self, conn, families, dat, version, now, samples, errors):
    conn._tag = self.target.name
    t0 = ns()
    orig_rg(self, conn, families, dat, version, now, samples, errors)
    P[(self.target.name, "run_group" + ("_db" if dat else ""))].append(ns() - t0)


pgc.PostgresCollector._run_group = rg

srv, uri = bp.start_pg18()
try:
    with psycopg.connect(uri, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    bp.prepare(uri, uri)
    r = bp.measure("pg18", uri, None, 30, True)
    bp.report(r)
finally:
    bp.stop_pg18(srv)
med = {k[1]: statistics.median(v[-30:]) / 1e6 for k, v in P.items() if k[0] == "bench_default"}
server = sum(r["server"]["default"]) * 1000
print("\ndefault cycle, medians (ms):")
print(f"  run() wall                 {med['run']:.3f}")
print(f"  hand-off to collect thread {med['handoff']:.3f}")
print(f"  execute (send + wait)      {med['execute']:.3f}   of which counted server time {server:.3f}")
print(f"  fetch + JSON decode        {med['fetch+json']:.3f}")
mappers = med["run_group"] + med.get("run_group_db", 0) - med["execute"] - med["fetch+json"]
print(f"  row mappers and emit       {mappers:.3f}")
print(f"  run() bookkeeping          {med['run'] - med['collect'] - med['handoff']:.3f}"
      f"   of which back from the collect thread and after it {med['handback']:.3f}")
