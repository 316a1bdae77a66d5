"""HTTP collector benchmark: 50 probes per interval against a local waitress server.

Run:  .venv/bin/python bench/bench_http.py [--cycles 20] [--probes 50]

A tiny app is served by waitress in a subprocess on 127.0.0.1 (loopback only);
the run is bounded by --cycles. In the same run and interleaved cycle by
cycle, it measures:

- lookout (fresh):      HttpCollector.run() on one target of N probes, a new
                        connection per probe (the default, keep_alive: false);
- peer requests.get:    a plain loop of requests.get over the same N URLs
                        (also a new connection per request);
- lookout (keep-alive): the same target with keep_alive: true;
- peer Session.get:     a plain loop over one requests.Session.

It prints the cycle time for N probes and the cost per probe (median, p95),
and the ratios lookout/peer.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def serve(port: int) -> None:
    import waitress

    def app(environ, start_response):  # a plain WSGI app: the server is not what is measured
        body = b'{"ok": true, "path": "' + environ["PATH_INFO"].encode() + b'"}'
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                                  ("X-Cache", "HIT")])
        return [body]

    waitress.serve(app, host="127.0.0.1", port=port, threads=4, _quiet=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_up(port: int, deadline: float = 10.0) -> None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cycles", type=int, default=20)
    ap.add_argument("--probes", type=int, default=50)
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve)
        return

    import requests

    from collectors.http import HttpCollector, HttpTarget

    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        wait_up(port)
        base = f"http://127.0.0.1:{port}"
        urls = [f"{base}/item/{i}" for i in range(args.probes)]
        probes = [{"name": f"p{i}", "url": f"/item/{i}", "expect_json": {"path": "$.ok", "equals": True},
                   "cache_header": "X-Cache"} for i in range(args.probes)]

        def make(keep_alive: bool) -> HttpCollector:
            return HttpCollector(HttpTarget(name="bench", base_url=base, probes=probes, interval=60.0,
                                            timeout=50.0, keep_alive=keep_alive))

        fresh, alive = make(False), make(True)
        session = requests.Session()
        cycles: dict[str, list[float]] = {
            k: [] for k in ("lookout_fresh", "peer_get", "lookout_keepalive", "peer_session")}
        per: dict[str, list[float]] = {k: [] for k in cycles}

        def lookout(c: HttpCollector, key: str) -> None:
            t0 = time.perf_counter()
            b = c.run()
            cycles[key].append(time.perf_counter() - t0)
            assert b.up and all(s.value == 1 for s in b.samples if s.name == "lookout_http_probe_success"), b.documents
            per[key].extend(s.value for s in b.samples
                            if s.name == "lookout_http_probe_duration_seconds" and s.labels["phase"] == "total")

        def peer(get, key: str) -> None:
            t0 = time.perf_counter()
            for u in urls:
                t1 = time.perf_counter()
                r = get(u, timeout=5)
                r.raise_for_status()
                per[key].append(time.perf_counter() - t1)
            cycles[key].append(time.perf_counter() - t0)

        for c in (fresh, alive):  # warm-up: imports, first connections
            c.run()
        peer(requests.get, "peer_get")
        for v in per.values():
            v.clear()
        for v in cycles.values():
            v.clear()
        for _ in range(args.cycles):
            lookout(fresh, "lookout_fresh")
            peer(requests.get, "peer_get")
            lookout(alive, "lookout_keepalive")
            peer(session.get, "peer_session")
        fresh.close(), alive.close(), session.close()
    finally:
        server.terminate()
        server.wait(10)

    out = {k: {"cycle_median_ms": statistics.median(cycles[k]) * 1e3, "cycle_p95_ms": pct(cycles[k], 0.95) * 1e3,
               "probe_median_ms": statistics.median(per[k]) * 1e3, "probe_p95_ms": pct(per[k], 0.95) * 1e3}
           for k in cycles}
    ratios = {
        "fresh: lookout/requests.get (cycle median)":
            out["lookout_fresh"]["cycle_median_ms"] / out["peer_get"]["cycle_median_ms"],
        "keep-alive: lookout/Session.get (cycle median)":
            out["lookout_keepalive"]["cycle_median_ms"] / out["peer_session"]["cycle_median_ms"],
    }
    print(json.dumps({"probes": args.probes, "cycles": args.cycles, "python": platform.python_version(),
                      "results": out, "ratios": ratios}, indent=2))
    print(f"\n| run | cycle of {args.probes}: median | p95 | per probe: median | p95 |\n|---|---|---|---|---|")
    for k, v in out.items():
        print(f"| {k} | {v['cycle_median_ms']:.1f} ms | {v['cycle_p95_ms']:.1f} ms | "
              f"{v['probe_median_ms']:.2f} ms | {v['probe_p95_ms']:.2f} ms |")
    for k, v in ratios.items():
        print(f"ratio {k}: {v:.2f}")


if __name__ == "__main__":
    main()
