"""Soak: a real Lookout process (app.py) watching 50 targets at 15 s for a long time.

    .venv/bin/python bench/soak.py --duration 1h [--warmup 5m] [--out artifacts/soak]

Targets: 20 `http` (health JSON + Prometheus text from a small server this
script runs), 15 `redis` (the Redis at --redis-url), 10 `postgres` (the
PostgreSQL at --pg-dsn, database postgres only) and 5 `process`, all at 15 s,
SQLite store in a fresh folder, a target_down rule evaluated every 15 s.

Reported: RSS of the Lookout process every --every seconds (start, after
warm-up, end, growth after warm-up: must stay under 10 %), raw rows in the
store against the arithmetic (series x collections, from Lookout's own
lookout_store_samples_written_total), the file size per stored sample, and
how far the 1-minute rollups lag behind now. By design a minute is rolled up
once it is store.rollup.GRACE_MS (120 s) old, by a job that runs every 60 s:
the lag of the newest rolled bucket's end swings between 120 and 180 s, plus
the job's own run time. They keep up when it stays under 240 s. Results go
to OUT/soak.json and a line per sample to OUT/rss.csv.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from core.durations import parse_duration

PROM = """# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{{route="/a",status="200"}} {n}
http_requests_total{{route="/a",status="500"}} {e}
# HELP http_request_duration_seconds Latency.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{{route="/a",le="0.1"}} {b1}
http_request_duration_seconds_bucket{{route="/a",le="0.5"}} {b2}
http_request_duration_seconds_bucket{{route="/a",le="+Inf"}} {n}
http_request_duration_seconds_sum{{route="/a"}} {s}
http_request_duration_seconds_count{{route="/a"}} {n}
"""


class Backend:
    """What the http targets probe: a health document and a growing Prometheus text."""

    def __init__(self) -> None:
        self.n = 0
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.n += random.randint(5, 50)
                n = outer.n
                if self.path.startswith("/metrics"):
                    body = PROM.format(n=n, e=n // 50, b1=n * 8 // 10, b2=n * 95 // 100, s=n * 0.05).encode()
                    ctype = "text/plain; version=0.0.4"
                else:
                    checks = {"db": {"status": "ok", "latency_ms": 2.5}, "cache": {"status": "ok", "latency_ms": 0.4}}
                    body = json.dumps({"status": "ok", "checks": checks}).encode()
                    ctype = "application/json"
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, backend_port: int, pg_dsn: str, redis_url: str, db: Path,
                 n_http: int, n_redis: int, n_pg: int, n_proc: int) -> int:
    t = []
    for i in range(n_http):
        t.append(f"""  - name: http-{i:02d}
    kind: http
    interval: 15s
    base_url: http://127.0.0.1:{backend_port}
    probes:
      - {{name: health, url: /health/{i},
         health: {{dependencies: $.checks, latency: latency_ms, latency_unit: ms, overall: $.status}}}}
      - {{name: metrics, url: /metrics/{i}, prometheus: {{}}}}""")
    for i in range(n_redis):
        t.append(f"  - {{name: redis-{i:02d}, kind: redis, interval: 15s, url: '{redis_url}'}}")
    for i in range(n_pg):
        t.append(f"  - {{name: pg-{i:02d}, kind: postgres, interval: 15s, dsn: '{pg_dsn}', databases: [postgres]}}")
    for i in range(n_proc):
        t.append(f"  - {{name: proc-{i:02d}, kind: process, interval: 15s}}")
    path.write_text(f"""server: {{host: 127.0.0.1, port: 8050}}
store: {{url: 'sqlite:///{db}'}}
demo: {{enabled: false}}
alerting:
  evaluation_interval: 15s
  rules:
    - name: target_down
      expr: {{metric: lookout_target_up, agg: last, window: 2m}}
      op: "<"
      critical: 1
      for: 30s
targets:
""" + "\n".join(t) + "\n")
    return len(t)


def metric(text: str, name: str) -> float:
    m = re.search(rf"^{name}(?:{{[^}}]*}})? ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", default="1h")
    p.add_argument("--warmup", default="5m")
    p.add_argument("--every", default="30s", help="RSS sampling period")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "soak"))
    p.add_argument("--pg-dsn", default=os.environ.get("SOAK_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--redis-url", default=os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/0"))
    p.add_argument("--targets", default="20,15,10,5", help="http,redis,postgres,process counts")
    a = p.parse_args()
    duration, warmup, every = (parse_duration(x) for x in (a.duration, a.warmup, a.every))
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    db = out / "soak.db"
    for f in out.glob("soak.db*"):
        f.unlink()
    backend = Backend()
    counts = [int(x) for x in a.targets.split(",")]
    cfg = out / "soak.yaml"
    n_targets = write_config(cfg, backend.port, a.pg_dsn, a.redis_url, db, *counts)
    port = free_port()
    log = open(out / "lookout.log", "w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(cfg), "--port", str(port),
                             "--log-level", "WARNING"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    ps = psutil.Process(proc.pid)
    rss: list[tuple[float, int]] = []
    t0 = time.time()
    csv = open(out / "rss.csv", "w")
    csv.write("elapsed_s,rss_bytes,samples_written,rollup_lag_s\n")
    try:
        for _ in range(300):
            try:
                if requests.get(base + "/api/health", timeout=2).status_code in (200, 503):
                    break
            except requests.RequestException:
                time.sleep(0.2)
        print(f"soak: Lookout pid {proc.pid}, {n_targets} targets at 15 s, {a.duration}", flush=True)
        while time.time() - t0 < duration:
            if proc.poll() is not None:
                raise SystemExit(f"Lookout exited with {proc.returncode}: see {out / 'lookout.log'}")
            r = ps.memory_info().rss
            text = requests.get(base + "/metrics", timeout=10).text
            written = metric(text, "lookout_store_samples_written_total")
            lag = rollup_lag(db)
            el = time.time() - t0
            rss.append((el, r))
            csv.write(f"{el:.0f},{r},{written:.0f},{lag:.0f}\n")
            csv.flush()
            print(f"  {el:6.0f}s rss {r / 2**20:7.1f} MiB  written {written:9.0f}  rollup lag {lag:5.0f}s", flush=True)
            time.sleep(every)
        text = requests.get(base + "/metrics", timeout=10).text
        health = requests.get(base + "/api/health", timeout=10).json()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    result = summarize(rss, warmup, text, db, health, n_targets, time.time() - t0, a)
    (out / "soak.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    return 0 if result["rss_growth_after_warmup"] < 0.10 and result["rows_match_written"] else 1


def rollup_lag(db: Path) -> float:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as c:
            ts = c.execute("select max(ts) from samples_1m").fetchone()[0]
    except sqlite3.Error:
        return -1.0
    return -1.0 if ts is None else round(time.time() - ts / 1000 - 60, 1)  # bucket end, not start; -1: none yet


def summarize(rss, warmup, text, db, health, n_targets, elapsed, a) -> dict:
    after = [r for t, r in rss if t >= warmup] or [rss[-1][1]]
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        raw = c.execute("select count(*) from samples").fetchone()[0]
        series = c.execute("select count(*) from series").fetchone()[0]
        m1 = c.execute("select count(*) from samples_1m").fetchone()[0]
        integrity = c.execute("pragma integrity_check").fetchone()[0]
    size = sum(f.stat().st_size for f in db.parent.glob(db.name + "*"))
    written = metric(text, "lookout_store_samples_written_total")
    collections = sum(1 for _ in re.finditer(r"^lookout_target_up", text, re.M))
    return {
        "duration_s": round(elapsed), "targets": n_targets, "health": health["status"],
        "rss_start_mib": round(rss[0][1] / 2**20, 1), "rss_after_warmup_mib": round(after[0] / 2**20, 1),
        "rss_end_mib": round(rss[-1][1] / 2**20, 1), "rss_max_after_warmup_mib": round(max(after) / 2**20, 1),
        "rss_growth_after_warmup": round((after[-1] - after[0]) / after[0], 4),
        "series": series, "raw_rows": raw, "samples_written_total": written,
        # /metrics is read a moment before the process stops: allow one cycle of difference.
        "rows_match_written": abs(raw - written) <= 0.01 * written,
        "expected_rows_if_all_series_every_15s": round(series * elapsed / 15),
        "rollup_1m_rows": m1, "rollup_lag_s_end": rollup_lag(db),
        "store_bytes": size, "bytes_per_raw_row": round(size / max(raw, 1), 1),
        "write_errors": metric(text, "lookout_store_write_errors_total"),
        "targets_up_series": collections, "integrity_check": integrity,
        "retention_arithmetic": "raw rows = series x (seconds/15) while raw retention (7d) > duration; "
                                "1m rows = series x completed minutes; a week of raw = week/run x raw_rows",
    }


if __name__ == "__main__":
    sys.exit(main())
