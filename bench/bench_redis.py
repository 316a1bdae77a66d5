"""Redis collection cycle vs redis_exporter's scrape of the same server, same run.

    .venv/bin/python bench/bench_redis.py [--cycles 50] [--url redis://127.0.0.1:6379/0]

Lookout: one ``RedisCollector.run()`` (INFO all, CONFIG GET of six settings,
SLOWLOG, LATENCY LATEST/HISTOGRAM in one pipeline, parsing, derived values,
redis_exporter's health families) on a kept connection. redis_exporter: ``GET /metrics`` (it reconnects, runs
CONFIG GET *, INFO ALL, LATENCY LATEST, SLOWLOG... and renders text).
Rounds alternate between the two so load from other processes hits both.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis

from collectors.redis import RedisCollector, RedisTarget

EXPORTER = "/usr/bin/prometheus-redis-exporter"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine(url: str) -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = int(next(ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines()
                   if ln.startswith("MemTotal"))) / 1024 / 1024
    server = redis.Redis.from_url(url).info("server")["redis_version"]
    exporter = subprocess.run([EXPORTER, "--version"], capture_output=True, text=True)
    ver = (exporter.stdout + exporter.stderr).split("Exporter ")[-1].split()[0]
    return (f"nproc {os.cpu_count()}, {cpu}, {mem:.1f} GiB RAM, Python {platform.python_version()}, "
            f"Redis {server}, redis_exporter {ver}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=50)
    ap.add_argument("--url", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    if not shutil.which(EXPORTER):
        sys.exit(f"{EXPORTER} is not installed")

    port = free_port()
    proc = subprocess.Popen([EXPORTER, f"--redis.addr={args.url}", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                urllib.request.urlopen(metrics_url, timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        coll = RedisCollector(RedisTarget(name="bench", url=args.url, interval=15.0))
        for _ in range(3):  # warm up both (connections, first-poll paths)
            coll.run()
            urllib.request.urlopen(metrics_url, timeout=5).read()
        ours, theirs, n_ours, n_theirs = [], [], 0, 0
        for _ in range(args.cycles):
            t0 = time.perf_counter()
            batch = coll.run()
            ours.append(time.perf_counter() - t0)
            assert batch.up, batch.error
            n_ours = len(batch.samples)
            t0 = time.perf_counter()
            body = urllib.request.urlopen(metrics_url, timeout=5).read()
            theirs.append(time.perf_counter() - t0)
            n_theirs = sum(1 for ln in body.splitlines() if ln.startswith(b"redis_"))
        coll.close()
    finally:
        proc.terminate()
        proc.wait(5)

    mo, mt = statistics.median(ours), statistics.median(theirs)
    print(f"machine: {machine(args.url)}")
    print(f"cycles: {args.cycles}, alternating")
    print(f"lookout RedisCollector.run(): median {mo * 1e3:.2f} ms  p90 "
          f"{statistics.quantiles(ours, n=10)[-1] * 1e3:.2f} ms  ({n_ours} samples)")
    print(f"redis_exporter GET /metrics:  median {mt * 1e3:.2f} ms  p90 "
          f"{statistics.quantiles(theirs, n=10)[-1] * 1e3:.2f} ms  ({n_theirs} redis_* series)")
    print(f"ratio lookout/redis_exporter: {mo / mt:.2f} ({'met' if mo <= mt else 'MISSED'}: target <= 1.0)")


if __name__ == "__main__":
    main()
