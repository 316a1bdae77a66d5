"""Fifty dashboard viewers refreshing every 5 s against a running Lookout, on loopback.

    .venv/bin/python bench/load_dashboard.py --duration 4m [--viewers 50] [--every 5s] [--url URL]

Without --url it starts its own Lookout (app.py, SQLite, the soak's target mix
scaled down: 6 http, 4 redis, 2 postgres, 1 process at 15 s, see bench/soak.py)
and lets it collect for --prefill before the viewers start. The callbacks are
the ones a browser fires on each auto-refresh: read from the page's
/_dash-dependencies (every callback with `tick.n_intervals` among its inputs,
one per page), sent to /_dash-update-component as the Dash renderer sends them.
Viewers are spread over the pages; each waits --every between refreshes and
starts at a random offset. Reported: requests, errors (anything but 200/204),
p50/p95/p99/max latency overall and per page, in OUT/load_dashboard.json.
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from soak import Backend, free_port, write_config

from core.durations import parse_duration


def parse_outputs(spec: str):
    if not spec.startswith(".."):
        cid, prop = spec.rsplit(".", 1)
        return {"id": cid, "property": prop}
    return [dict(zip(("id", "property"), part.rsplit(".", 1), strict=False)) for part in spec[2:-2].split("...")]


def refresh_payloads(base: str) -> dict[str, dict]:
    """One auto-refresh request per page, keyed by the callback's first output."""
    deps = requests.get(base + "/_dash-dependencies", timeout=30).json()
    out = {}
    for cb in deps:
        ids = [i["id"] + "." + i["property"] for i in cb["inputs"]]
        if "tick.n_intervals" not in ids:
            continue
        values = {"url.search": "", "tick.n_intervals": 1, "theme.data": None}
        out[cb["output"].strip(".").split(".")[0]] = {
            "output": cb["output"], "outputs": parse_outputs(cb["output"]),
            "inputs": [{"id": i["id"], "property": i["property"], "value": values.get(f"{i['id']}.{i['property']}")}
                       for i in cb["inputs"]],
            "changedPropIds": ["tick.n_intervals"], "state": [],
        }
    return out


def viewer(base, page, payload, every, until, results, lock) -> None:
    s = requests.Session()
    time.sleep(random.uniform(0, every))
    n = 1
    while time.time() < until:
        body = json.loads(json.dumps(payload))
        for i in body["inputs"]:
            if i["id"] == "tick":
                i["value"] = n
        t0 = time.perf_counter()
        try:
            r = s.post(base + "/_dash-update-component", json=body, timeout=60)
            status = r.status_code
        except requests.RequestException as exc:
            status = f"{exc.__class__.__name__}"
        dt = time.perf_counter() - t0
        with lock:
            results.append((page, dt, status))
        n += 1
        time.sleep(max(0.0, every - dt))


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--url")
    p.add_argument("--duration", default="4m")
    p.add_argument("--viewers", type=int, default=50)
    p.add_argument("--every", default="5s")
    p.add_argument("--prefill", default="90s")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "load_dashboard"))
    a = p.parse_args()
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    proc = None
    base = a.url
    if base is None:
        backend = Backend()
        cfg = out / "load.yaml"
        for f in out.glob("load.db*"):
            f.unlink()
        write_config(cfg, backend.port, "postgresql://postgres@127.0.0.1:5432/postgres",
                     "redis://127.0.0.1:6379/0", out / "load.db", 6, 4, 2, 1)
        port = free_port()
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(cfg), "--port", str(port),
                                 "--log-level", "WARNING"], cwd=ROOT, stdout=open(out / "lookout.log", "w"),
                                stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                requests.get(base + "/api/health", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.2)
        print(f"load: Lookout pid {proc.pid} on {base}; collecting {a.prefill} first", flush=True)
        time.sleep(parse_duration(a.prefill))
    try:
        payloads = refresh_payloads(base)
        pages = sorted(payloads)
        print(f"load: {a.viewers} viewers over {len(pages)} pages ({', '.join(pages)}), every {a.every}, "
              f"for {a.duration}", flush=True)
        results: list = []
        lock = threading.Lock()
        until = time.time() + parse_duration(a.duration)
        threads = [threading.Thread(target=viewer, args=(base, pages[i % len(pages)], payloads[pages[i % len(pages)]],
                                                         parse_duration(a.every), until, results, lock), daemon=True)
                   for i in range(a.viewers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    ok = [dt for _, dt, s in results if s in (200, 204)]
    errors = [(pg, s) for pg, _, s in results if s not in (200, 204)]
    summary = {
        "viewers": a.viewers, "every": a.every, "duration": a.duration, "requests": len(results),
        "errors": len(errors), "error_kinds": sorted({str(s) for _, s in errors}),
        "p50_ms": round(pct(ok, 0.50) * 1000, 1), "p95_ms": round(pct(ok, 0.95) * 1000, 1),
        "p99_ms": round(pct(ok, 0.99) * 1000, 1), "max_ms": round(max(ok) * 1000, 1) if ok else None,
        "mean_ms": round(statistics.mean(ok) * 1000, 1) if ok else None,
        "per_page": {pg: {"requests": sum(1 for x, _, _ in results if x == pg),
                          "p95_ms": round(pct([dt for x, dt, s in results
                                               if x == pg and s in (200, 204)], 0.95) * 1000, 1)}
                     for pg in sorted({x for x, _, _ in results})},
    }
    (out / "load_dashboard.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
