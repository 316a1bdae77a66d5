"""Community dashboards and alert rules for the exporters, evaluated on Lookout's /metrics (issue 17).

    .venv/bin/python bench/community_exprs.py [--warmup 180] [--json out.json]

Starts, on free ports, the Debian prometheus-postgres-exporter and prometheus-redis-exporter,
Lookout (a temporary config: SQLite store, no demo, a postgres target limited to the
``postgres`` database and a redis target, every 5 s) and two Prometheus servers: one scrapes
only the exporters (job ``exporters``), the other only Lookout (job ``lookout``), both every
5 s and both with the redis-mixin's recording rule. A light load (queries on a scratch table,
GET/SET with a TTL) runs meanwhile so rates are not all zero. After the warm-up every
expression of bench/data/community_expressions.yaml is evaluated unchanged, at one timestamp,
on both servers. Two servers rather than a job matcher injected into each selector: the
expressions run exactly as their authors wrote them.

Per expression: data on the exporters? on Lookout? agreement: the same result series
(labels minus instance, job, target and server) with every value within 10 % (NaN equals
NaN, equal infinities agree), at the last instant and at each of --instants instants --step
seconds apart: irate() over two 5 s samples taken at different moments on the two sides is
noisy, and a majority of instants separates that noise from a steady difference. Prints a
Markdown summary; --json writes every result.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import redis
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
EXPRESSIONS = ROOT / "bench" / "data" / "community_expressions.yaml"
PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
DEBIAN_QUERIES = Path("/usr/share/doc/prometheus-postgres-exporter/examples/queries.yaml")
# queries.yaml sections the PostgreSQL 15 test server rejects (pg_stat_statements' total_time
# column was renamed in 13): left out, as an administrator on 13+ leaves them out.
BROKEN_QUERIES = ("pg_stat_statements",)
REDIS_URL = "redis://127.0.0.1:6379"
IGNORED_LABELS = frozenset({"instance", "job", "target", "server"})
TOLERANCE = 0.10
RECORDING_RULES = {"groups": [{"name": "redis.rules", "rules": [{
    "record": "redis_memory_fragmentation_ratio",
    "expr": 'redis_memory_used_rss_bytes{job=~".+"} / redis_memory_used_bytes{job=~".+"}'}]}]}
NAME_TOKEN = re.compile(r"\b(?:pg|redis|process|go)_[a-zA-Z0-9_]+\b")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$", re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, wait: float = 60.0) -> None:
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{proc.args!r} exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    sys.exit(f"{url} did not answer within {wait:.0f} s; log: {log}")


class Processes:
    """Every process the bench starts, stopped (terminate, then kill) on exit."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, argv: Sequence[str], url: str, env: dict[str, str] | None = None) -> None:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(list(argv), env={**os.environ, **(env or {})}, cwd=self.workdir,
                                    stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        wait_http(url, proc, log)

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def lookout_config(workdir: Path, port: int, intervals: dict[str, str]) -> Path:
    pg: dict[str, Any] = {"name": "pg", "kind": "postgres", "dsn": PG_DSN, "databases": ["postgres"], "interval": "5s"}
    if intervals:
        pg["intervals"] = intervals
    cfg = {
        "server": {"host": "127.0.0.1", "port": port},
        "store": {"url": f"sqlite:///{workdir / 'lookout.db'}"},
        "demo": {"enabled": False},
        "targets": [
            pg,
            {"name": "cache", "kind": "redis", "url": f"{REDIS_URL}/0", "interval": "5s"},
        ],
    }
    path = workdir / "lookout.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def exporter_flags(workdir: Path, kind: str) -> tuple[list[str], list[str]]:
    """Extra argv of (postgres_exporter, redis_exporter).

    ``default``: none. ``common``: what a dashboard built for the exporters assumes is
    switched on: the package's example queries.yaml (pg_stat_user_tables, pg_replication,
    pg_postmaster, ...: the 0.11 exporter serves them only from it) and redis_exporter's
    -include-system-metrics (redis_total_system_memory_bytes).
    """
    if kind == "default":
        return [], []
    queries = yaml.safe_load(DEBIAN_QUERIES.read_text())
    for name in BROKEN_QUERIES:
        queries.pop(name, None)
    path = workdir / "queries.yaml"
    path.write_text(yaml.safe_dump(queries, sort_keys=False))
    return [f"--extend.query-path={path}"], ["-include-system-metrics"]


def prometheus_config(workdir: Path, name: str, job: str, targets: list[str]) -> Path:
    (workdir / "rules.yml").write_text(yaml.safe_dump(RECORDING_RULES, sort_keys=False))
    cfg = {
        "global": {"scrape_interval": "5s", "scrape_timeout": "4s", "evaluation_interval": "5s"},
        "rule_files": [str(workdir / "rules.yml")],
        "scrape_configs": [{"job_name": job, "static_configs": [{"targets": targets}]}],
    }
    path = workdir / f"{name}.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


class Load:
    """A light, steady load so rates and counters move: a scratch table and cache keys."""

    def __init__(self) -> None:
        self.table = f"bench_community_{os.getpid()}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (id int PRIMARY KEY, v text)")
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {self.table}")

    def _run(self) -> None:
        r = redis.Redis.from_url(f"{REDIS_URL}/0")
        i = 0
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            while not self.stop.wait(0.2):
                i += 1
                key = i % 50
                conn.execute(f"INSERT INTO {self.table} VALUES (%s, 'x') "
                             "ON CONFLICT (id) DO UPDATE SET v = 'y'", (key,))
                conn.execute(f"SELECT count(*) FROM {self.table} WHERE id < %s", (key,))
                if i % 10 == 0:
                    conn.execute(f"DELETE FROM {self.table} WHERE id = %s", (key,))
                if i % 25 == 0:
                    with contextlib.suppress(psycopg.Error), conn.transaction():
                        conn.execute("SELECT 1/0")
                r.set(f"bench:community:{key}", i, ex=60)
                r.get(f"bench:community:{key}")
                r.get(f"bench:community:missing:{key}")


def substitute(expr: str, subs: dict[str, str]) -> str:
    for name in sorted(subs, key=len, reverse=True):
        expr = expr.replace(name, subs[name])
    m = LABEL_VALUES.match(expr)
    return f"count by ({m.group(2)}) ({m.group(1)})" if m else expr


Series = dict[frozenset[tuple[str, str]], list[float]]


def query(base: str, expr: str, at: float) -> tuple[Series | None, str]:
    """Result series keyed by their labels minus IGNORED_LABELS; None and the error on failure."""
    r = requests.get(f"{base}/api/v1/query", params={"query": expr, "time": f"{at:.3f}"}, timeout=60)
    body = r.json()
    if body.get("status") != "success":
        return None, str(body.get("error", r.text))[:300]
    data = body["data"]
    out: Series = {}
    if data["resultType"] == "scalar":
        out[frozenset()] = [float(data["result"][1])]
    elif data["resultType"] == "vector":
        for s in data["result"]:
            key = frozenset((k, v) for k, v in s["metric"].items() if k not in IGNORED_LABELS)
            out.setdefault(key, []).append(float(s["value"][1]))
    else:
        return None, f"unexpected result type {data['resultType']}"
    for values in out.values():
        values.sort()
    return out, ""


def close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= max(TOLERANCE * max(abs(a), abs(b)), 1e-9)


def show(key: frozenset[tuple[str, str]]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(key)) + "}"


def compare(exp: Series, ours: Series) -> str:
    """Empty when both agree, else the first differences in words."""
    notes: list[str] = []
    missing = sorted(show(k) for k in exp.keys() - ours.keys())
    extra = sorted(show(k) for k in ours.keys() - exp.keys())
    if missing:
        notes.append(f"{len(missing)} series only on the exporters, e.g. {', '.join(missing[:3])}")
    if extra:
        notes.append(f"{len(extra)} series only on Lookout, e.g. {', '.join(extra[:3])}")
    for key in sorted(exp.keys() & ours.keys(), key=show):
        a, b = exp[key], ours[key]
        if len(a) != len(b) or not all(close(x, y) for x, y in zip(a, b, strict=True)):
            notes.append(f"{show(key)}: exporters {a[:4]}, Lookout {b[:4]}")
    return "; ".join(notes[:4])


@dataclass
class Result:
    id: str
    source: str
    title: str
    kind: str
    evaluated: list[str]
    exporters_data: bool = False
    lookout_data: bool = False
    agree: bool = False
    agree_instants: int = 0  # of --instants evaluation times, at how many both agree
    agree_majority: bool = False
    detail: str = ""
    missing_families: list[str] = field(default_factory=list)
    fires_exporters: int | None = None
    fires_lookout: int | None = None
    fires_same: bool | None = None
    agree_as_rate: bool | None = None  # irate( read as rate( over the same window: phase noise or not
    errors: list[str] = field(default_factory=list)


def names(base: str) -> set[str]:
    return set(requests.get(f"{base}/api/v1/label/__name__/values", timeout=30).json()["data"])


def evaluate_at(exprs: list[str], exp_url: str, ours_url: str, at: float) -> tuple[bool, bool, bool, str, list[str]]:
    """(exporters have data, Lookout has data, they agree, the differences, errors) at one instant."""
    has_exp = has_ours = agree = True
    details: list[str] = []
    errors: list[str] = []
    for expr in exprs:
        exp, err_e = query(exp_url, expr, at)
        ours, err_o = query(ours_url, expr, at)
        errors += [e for e in (err_e and f"exporters: {err_e}", err_o and f"lookout: {err_o}") if e]
        has_exp &= bool(exp)
        has_ours &= bool(ours)
        diff = compare(exp or {}, ours or {}) if exp is not None and ours is not None else "query failed"
        agree &= bool(exp) and not diff
        if diff:
            details.append(diff if len(exprs) == 1 else f"[{' '.join(expr.split())[:70]}] {diff}")
    return has_exp, has_ours, agree, " | ".join(details), errors


def evaluate(entry: dict[str, Any], subs: dict[str, str], exp_url: str, ours_url: str, instants: list[float],
             exp_names: set[str], ours_names: set[str]) -> Result:
    """Data and agreement at the last instant; agreement also at each of the earlier ones."""
    exprs = [substitute(e, subs) for e in (entry.get("eval") or [entry["expr"]])]
    res = Result(entry["id"], entry["source"], entry["title"], entry["kind"], exprs)
    for i, at in enumerate(sorted(instants, reverse=True)):
        has_exp, has_ours, agree, detail, errors = evaluate_at(exprs, exp_url, ours_url, at)
        res.agree_instants += int(agree)
        if i == 0:
            res.exporters_data, res.lookout_data, res.agree, res.detail, res.errors = (
                has_exp, has_ours, agree, detail, errors)
    res.agree_majority = res.agree_instants * 2 > len(instants)
    if not res.agree and any("irate(" in e for e in exprs):
        smooth = [e.replace("irate(", "rate(") for e in exprs]
        res.agree_as_rate = evaluate_at(smooth, exp_url, ours_url, instants[-1])[2]
    tokens = {t for e in exprs for t in NAME_TOKEN.findall(e)}
    res.missing_families = sorted(t for t in tokens if t in exp_names and t not in ours_names)
    if entry.get("eval"):
        rule = substitute(entry["expr"], subs)
        exp, _ = query(exp_url, rule, instants[-1])
        ours, _ = query(ours_url, rule, instants[-1])
        if exp is not None and ours is not None:
            res.fires_exporters, res.fires_lookout = len(exp), len(ours)
            res.fires_same = exp.keys() == ours.keys()
    return res


def reason(r: Result) -> str:
    if r.errors:
        return "query error: " + "; ".join(r.errors)
    if r.missing_families:
        return "family missing on Lookout: " + ", ".join(r.missing_families)
    if not r.lookout_data:
        return "no series on Lookout (families present): " + r.detail
    smooth = "" if r.agree_as_rate is None else (
        "; agrees with irate read as rate" if r.agree_as_rate else "; differs with rate too")
    return "differs: " + r.detail + smooth


def summary(results: list[Result], args: argparse.Namespace, started: str, at: float) -> str:
    with_data = [r for r in results if r.exporters_data]
    on_lookout = [r for r in with_data if r.lookout_data]
    agree = [r for r in with_data if r.agree]
    majority = [r for r in with_data if r.agree_majority]
    lookout_only = [r for r in results if not r.exporters_data and r.lookout_data]
    rules = [r for r in results if r.fires_same is not None]
    pct = (lambda n: f"{100 * n / len(with_data):.0f} %") if with_data else (lambda n: "n/a")
    lines = [
        f"`.venv/bin/python bench/community_exprs.py --warmup {args.warmup:.0f} "
        f"--exporter-flags {args.exporter_flags}"
        f"{''.join(' --family-interval ' + f for f in args.family_interval)}`, {started}, "
        f"{platform.node() or 'host'}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.1f} at evaluation; evaluated at {at:.0f} (unix).",
        "",
        f"- expressions: {len(results)}; returning data on the exporters: **{len(with_data)}**",
        f"- of those, returning data on Lookout: **{len(on_lookout)} ({pct(len(on_lookout))})**",
        f"- of those, agreeing within {TOLERANCE:.0%} (same series, every value): "
        f"**{len(agree)} ({pct(len(agree))})**; at a majority of {args.instants} instants {args.step:.0f} s apart: "
        f"**{len(majority)} ({pct(len(majority))})**",
        f"- alert rules as written: {sum(1 for r in rules if r.fires_same)} of {len(rules)} fire for the "
        "same series on both (on an idle server mostly: neither fires)",
        f"- no data on the exporters: {len(results) - len(with_data)}, of which Lookout answers "
        f"{len(lookout_only)} ({', '.join(r.id for r in lookout_only)}) and neither answers "
        f"{len(results) - len(with_data) - len(lookout_only)} "
        f"({', '.join(r.id for r in results if not r.exporters_data and not r.lookout_data)})",
        "",
        f"| id | title | Lookout data | agrees at (of {args.instants}) | reason (at the last instant) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in with_data:
        if not r.agree:
            text = reason(r).replace("|", "\\|").replace("\n", " ")
            data = "yes" if r.lookout_data else "no"
            lines.append(f"| {r.id} | {r.title} | {data} | {r.agree_instants} | {text[:400]} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    spec = yaml.safe_load(EXPRESSIONS.read_text())
    subs = {str(k): str(v) for k, v in spec["substitutions"].items()}
    entries = spec["expressions"]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    workdir = Path(tempfile.mkdtemp(prefix="lookout-community-"))
    procs = Processes(workdir)
    try:
        pg_port, redis_port, lo_port, p1, p2 = (free_port() for _ in range(5))
        intervals = dict(item.split("=", 1) for item in args.family_interval)
        cfg = lookout_config(workdir, lo_port, intervals)
        python = str(ROOT / ".venv" / "bin" / "python")
        check = subprocess.run([python, "app.py", "check-config", "--config", str(cfg)], cwd=ROOT,
                               capture_output=True, text=True)
        if check.returncode != 0:
            sys.exit(f"check-config failed:\n{check.stdout}{check.stderr}")
        with Load():
            pg_flags, redis_flags = exporter_flags(workdir, args.exporter_flags)
            procs.start("postgres-exporter", ["/usr/bin/prometheus-postgres-exporter",
                                              f"--web.listen-address=127.0.0.1:{pg_port}", *pg_flags],
                        f"http://127.0.0.1:{pg_port}/metrics", env={"DATA_SOURCE_NAME": f"{PG_DSN}?sslmode=disable"})
            procs.start("redis-exporter", ["/usr/bin/prometheus-redis-exporter", f"-redis.addr={REDIS_URL}",
                                           f"-web.listen-address=127.0.0.1:{redis_port}", *redis_flags],
                        f"http://127.0.0.1:{redis_port}/metrics")
            procs.start("lookout", [python, str(ROOT / "app.py"), "--config", str(cfg), "--port", str(lo_port)],
                        f"http://127.0.0.1:{lo_port}/metrics")
            servers = {}
            scrapes = (("prom-exporters", p1, "exporters", [f"127.0.0.1:{pg_port}", f"127.0.0.1:{redis_port}"]),
                       ("prom-lookout", p2, "lookout", [f"127.0.0.1:{lo_port}"]))
            for name, port, job, targets in scrapes:
                path = prometheus_config(workdir, name, job, targets)
                procs.start(name, ["/usr/bin/prometheus", f"--config.file={path}",
                                   f"--storage.tsdb.path={workdir / (name + '-data')}",
                                   f"--web.listen-address=127.0.0.1:{port}"], f"http://127.0.0.1:{port}/-/ready")
                servers[job] = f"http://127.0.0.1:{port}"
            print(f"warming up {args.warmup:.0f} s (workdir {workdir})", file=sys.stderr)
            time.sleep(args.warmup)
            at = time.time() - 2
            instants = [at - k * args.step for k in reversed(range(args.instants))]
            exp_names, ours_names = names(servers["exporters"]), names(servers["lookout"])
            results = [evaluate(e, subs, servers["exporters"], servers["lookout"], instants, exp_names, ours_names)
                       for e in entries]
        print(summary(results, args, started, at))
        if args.json:
            doc = {"evaluated_at": instants, "results": [asdict(r) for r in results]}
            Path(args.json).write_text(json.dumps(doc, indent=1))
    finally:
        procs.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=float, default=180.0, help="seconds of scraping before evaluation")
    ap.add_argument("--exporter-flags", choices=("common", "default"), default="common",
                    help="common: the package's example queries.yaml and -include-system-metrics; default: none")
    ap.add_argument("--family-interval", action="append", default=[], metavar="FAMILY=DURATION",
                    help="a postgres family interval for Lookout (e.g. tables=5s); default: Lookout's own")
    ap.add_argument("--instants", type=int, default=5, help="evaluation times, the last one now")
    ap.add_argument("--step", type=float, default=15.0, help="seconds between evaluation times")
    ap.add_argument("--json", help="write every result to this file")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (logs, TSDBs)")
    return run(ap.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
