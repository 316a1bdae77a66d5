"""How long each demo scenario takes to page and to resolve, on the shipped config (README's table).

    .venv/bin/python bench/scenario_times.py [--warmup 180] [--only NAME ...] [--json OUT.json]

Starts ``app.py`` on a copy of config.yaml that differs only in free ports, its own data folder
and store (bench/quiet_run.py's copy), lets the demo warm up (``--warmup`` seconds: a fresh
start has little history, and burn-rate windows read what there is), then for each scenario:
switches it on with ``python app.py scenario NAME``, polls the sink (what Slack and email
would have received) every second until a FIRING (or ESCALATED) message of the scenario's
alert arrives, switches it off, and polls until that alert's RESOLVED message arrives. Between
scenarios it waits until nothing fires. Prints one Markdown row per scenario: fired after /
resolved after switching off, as the README's table shows them.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quiet_run import PORTS, free_port, machine, quiet_config, stop, wait_healthy

# scenario -> the alert that must page for it (the README's table)
EXPECTED = {
    "payment_outage": "promise_payment_success",
    "cache_stampede": "promise_cache_hit_rate",
    "slow_query": "pg_query_mean_time",
    "pool_exhaustion": "promise_pool_utilisation",
    "redis_down": "target_down",
    "long_lock": "pg_blocked_sessions",
}


def sink(port: int, after: int) -> list[dict[str, Any]]:
    r = requests.get(f"http://127.0.0.1:{port}/api/sink", params={"since_id": after}, timeout=10)
    return list(r.json()["messages"])


def last_id(port: int) -> int:
    return max((m["id"] for m in sink(port, 0)), default=0)


def wait_message(port: int, rule: str, kinds: tuple[str, ...], after: int, timeout: float) -> dict | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in sink(port, after):
            if rule in m["rules"] and set(kinds) & set(m["kinds"]):
                return m
        time.sleep(1)
    return None


def firing(port: int) -> list[str]:
    alerts = requests.get(f"http://127.0.0.1:{port}/api/alerts", timeout=10).json()["alerts"]
    return sorted(f"{a['rule']} ({a['state']})" for a in alerts if a["state"] in ("firing", "flapping", "pending"))


def switch(port: int, name: str, on: bool) -> None:
    argv = [sys.executable, "app.py", "scenario", name, "--port", str(port)] + ([] if on else ["--off"])
    subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, timeout=30)


def measure(port: int, name: str, rule: str, timeout: float) -> dict[str, Any]:
    after = last_id(port)
    t_on = time.monotonic()
    switch(port, name, True)
    fired = wait_message(port, rule, ("firing", "escalated"), after, timeout)
    t_fired = time.monotonic()
    # Every other message of the incident, with its kind: a page and a resolve are not the same news.
    also = sorted({f"{r} ({'/'.join(m['kinds'])})" for m in sink(port, after) for r in m["rules"] if r != rule})
    switch(port, name, False)
    t_off = time.monotonic()
    resolved = wait_message(port, rule, ("resolved",), fired["id"] if fired else after, timeout) if fired else None
    t_resolved = time.monotonic()
    return {"scenario": name, "alert": rule, "fired_after_s": round(t_fired - t_on, 1) if fired else None,
            "resolved_after_s": round(t_resolved - t_off, 1) if resolved else None, "also_paged": also}


def quiet(port: int, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    left = firing(port)
    while left and time.monotonic() < deadline:
        time.sleep(5)
        left = firing(port)
    return left


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warmup", type=float, default=180.0)
    ap.add_argument("--timeout", type=float, default=300.0, help="give up on one fire or resolve after this")
    ap.add_argument("--only", nargs="*", default=None, choices=sorted(EXPECTED))
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    ports = {k: free_port() for k in PORTS}
    work = Path(tempfile.mkdtemp(prefix="lookout-scenarios-"))
    demo_dir = work / "demo"
    cfg = work / "config.yaml"
    cfg.write_text(quiet_config(args.config.read_text(), work, demo_dir, ports))
    port = ports["server"]
    rows: list[dict[str, Any]] = []
    with (work / "lookout.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--config", str(cfg)], cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, text=True)
        try:
            if wait_healthy(port, proc, 180) is None:
                print("Lookout did not come up", file=sys.stderr)
                return 2
            time.sleep(args.warmup)
            for name in args.only or list(EXPECTED):
                left = quiet(port, 600)
                row = measure(port, name, EXPECTED[name], args.timeout)
                row["firing_before"] = left
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
        finally:
            stop(proc, demo_dir)
    result = {"command": "python bench/scenario_times.py " + " ".join(sys.argv[1:]), "machine": machine(),
              "warmup_s": args.warmup, "rows": rows}
    for r in rows:
        fmt = lambda v: "not within the timeout" if v is None else f"{v:.0f} s"  # noqa: E731
        print(f"| `{r['scenario']}` | `{r['alert']}` | {fmt(r['fired_after_s'])} | {fmt(r['resolved_after_s'])} |"
              f" {', '.join(r['also_paged']) or '-'} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0 if all(r["fired_after_s"] is not None and r["resolved_after_s"] is not None for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
