"""Quiet run: the shipped demo with no scenario on pages nobody (issue 15, "no page for nothing").

    .venv/bin/python bench/quiet_run.py [--minutes 30] [--restart-at MIN] [--config config.yaml] [--json OUT.json]

Starts ``app.py`` on a copy of the config that differs only in free ports, its own data
folder and its own SQLite store (so it collides with nothing already running), lets the
embedded demo run for ``--minutes`` with no scenario, stops it with Ctrl-C (SIGINT), then
reads the store through the alerts' and the sink's read functions and reports:

- the notifications sent (the demo's sink receiver keeps what Slack or email would get);
- every alert instance that went pending, firing, stale or flapping, with the time.

``--restart-at MIN`` stops Lookout (and with it the embedded servers) after MIN minutes and
starts it again on the same store and demo data, as an operator's restart would: counters
start over and the cache is cold, which must not page either.

Exit status 1 if any notification was sent, 2 if the run itself failed (no /api/health),
0 otherwise. ``--strict`` also fails (1) when anything went pending, firing or stale.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
import requests
from sqlalchemy import create_engine

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alerts.notify.channels import sink
from alerts.queries import alert_rows, transitions_between

NOT_OK = ("pending", "firing", "stale", "flapping")
# The shipped config's ports: replaced by free ones in the copy.
PORTS = {"server": "port: 8050", "pg": "55432", "redis": "56379", "shop": "8060"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def quiet_config(text: str, dest: Path, demo_dir: Path, ports: dict[str, int]) -> str:
    """The config copy: free ports, its own demo data folder and store; nothing else changed."""
    changes = [
        (PORTS["server"], f"port: {ports['server']}"),
        (PORTS["pg"], str(ports["pg"])), (PORTS["redis"], str(ports["redis"])), (PORTS["shop"], str(ports["shop"])),
        ("data_dir: data/demo", f"data_dir: {demo_dir}"),
        ("url: sqlite:///data/lookout.db", f"url: sqlite:///{dest / 'lookout.db'}"),
    ]
    for old, new in changes:
        if old not in text:
            raise SystemExit(f"the config no longer contains {old!r}: update bench/quiet_run.py")
        text = text.replace(old, new)
    return text


def wait_healthy(port: int, proc: subprocess.Popen, timeout: float) -> float | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).json().get("status") == "pass":
                return time.time()
        except (requests.RequestException, ValueError):
            pass
        time.sleep(1)
    return None


def stop(proc: subprocess.Popen, demo_dir: Path) -> int | None:
    code: int | None = None
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    else:
        code = proc.returncode
    for p in psutil.process_iter(["cmdline"]):  # the embedded servers, even if the stop failed
        try:
            if str(demo_dir) in " ".join(p.info["cmdline"] or []):
                p.kill()
        except psutil.Error:
            pass
    return code


def read_results(db: Path, started: float, ended: float) -> dict[str, Any]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        msgs = sink.messages(engine, limit=10_000)
        changes = transitions_between(engine, started, ended + 3600, limit=100_000)
        instances = alert_rows(engine)
    finally:
        engine.dispose()
    states: dict[str, int] = {}
    for a in instances:
        states[a["state"]] = states.get(a["state"], 0) + 1
    return {
        # what was evaluated: every alert instance at the end, by state (all ok on a quiet run)
        "instances": len(instances), "rules": len({a["rule"] for a in instances}), "states_at_end": states,
        "notifications": [{"at": m["created_at"], "after_s": round(m["created_at"] - started, 1),
                           "title": m["title"], "kinds": m["kinds"], "rules": m["rules"]}
                          for m in sorted(msgs, key=lambda m: m["id"])],
        "not_ok": [{"at": c.at, "after_s": round(c.at - started, 1), "rule": c.rule, "alert": c.alert_key,
                    "from": c.from_state, "to": c.to_state, "severity": c.to_severity}
                   for c in changes if c.to_state in NOT_OK],
    }


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} vCPU {cpu}, {mem:.0f} GiB RAM, Python {platform.python_version()}"


def segment(cfg: Path, port: int, demo_dir: Path, log_path: Path,
            until: float) -> tuple[float | None, bool, int | None]:
    """One life of ``app.py`` until ``until``: (ready at, crashed, exit code)."""
    t0 = time.time()
    with log_path.open("a") as log:
        proc = subprocess.Popen([sys.executable, "app.py", "--config", str(cfg)], cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, text=True)
        try:
            ready = wait_healthy(port, proc, 180)
            if ready is not None:
                print(f"quiet run: Lookout up after {ready - t0:.0f} s; running until "
                      f"{time.strftime('%H:%M:%S', time.localtime(until))}", file=sys.stderr, flush=True)
                while time.time() < until and proc.poll() is None:
                    time.sleep(min(5.0, max(0.0, until - time.time())))
            crashed = proc.poll() is not None
        finally:
            code = stop(proc, demo_dir)
    return ready, crashed, code


def run(minutes: float, config: Path, keep: bool = False, restart_at: float | None = None) -> dict[str, Any]:
    ports = {k: free_port() for k in PORTS}
    # Not under a 0700 folder: as root the embedded PostgreSQL runs as another user.
    work = Path(tempfile.mkdtemp(prefix="lookout-quiet-run-"))
    demo_dir = work / "demo"
    cfg = work / "config.yaml"
    cfg.write_text(quiet_config(config.read_text(), work, demo_dir, ports))
    log_path = work / "lookout.log"
    started = time.time()
    end = started + minutes * 60
    lives = [started + restart_at * 60, end] if restart_at is not None and 0 < restart_at < minutes else [end]
    ready: float | None = None
    crashed, code, restarts = False, None, []
    for i, until in enumerate(lives):
        if i:
            restarts.append(round(time.time() - started, 1))
        up, crashed, code = segment(cfg, ports["server"], demo_dir, log_path, until)
        if i == 0:
            ready = up
        if up is None or crashed:  # did not come up, or died: the run failed
            crashed = True
            break
    ended = time.time()
    lines = [line for line in log_path.read_text(errors="replace").splitlines()
             if "GET " not in line and "POST " not in line]
    tail = lines[-40:]
    result: dict[str, Any] = {
        "command": f"python bench/quiet_run.py --minutes {minutes:g}"
                   + (f" --restart-at {restart_at:g}" if restarts else ""),
        "machine": machine(), "started": started, "minutes": round((ended - started) / 60, 2),
        "ready_after_s": None if ready is None else round(ready - started, 1),
        "restarted_after_s": restarts, "exit_code": code, "crashed": crashed,
        # What an operator reading the console would see besides the pages.
        "log_warnings": [line for line in lines if " WARNING " in line or " ERROR " in line],
    }
    if (work / "lookout.db").exists():
        result.update(read_results(work / "lookout.db", started, ended))
    if ready is None or crashed:
        result["log_tail"] = tail
    if keep:
        result["kept"] = str(work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return result


def report(r: dict[str, Any]) -> str:
    lines = [f"quiet run: {r['minutes']:g} min on {r['machine']}; Lookout up after {r['ready_after_s']} s"
             + "".join(f"; restarted at +{t:g} s" for t in r.get("restarted_after_s", []))]
    n, bad = r.get("notifications", []), r.get("not_ok", [])
    if "instances" in r:
        lines.append(f"alert instances at the end: {r['instances']} of {r['rules']} rules, by state "
                     + ", ".join(f"{k} {v}" for k, v in sorted(r["states_at_end"].items())))
    lines.append(f"notifications sent: {len(n)}")
    for m in n:
        lines.append(f"  +{m['after_s']:>7.1f}s  {m['title']}  ({', '.join(m['kinds'])})")
    lines.append(f"alerts that went pending, firing, stale or flapping: {len(bad)}")
    for c in bad:
        lines.append(f"  +{c['after_s']:>7.1f}s  {c['alert']}  {c['from']} -> {c['to']}"
                     + (f" ({c['severity']})" if c["severity"] else ""))
    warnings = r.get("log_warnings", [])
    lines.append(f"warnings and errors in Lookout's log: {len(warnings)}")
    lines += [f"  {w}" for w in warnings[:20]]
    if "log_tail" in r:
        lines += ["the run failed; Lookout's last lines:", *r["log_tail"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0, help="how long the demo runs (default 30)")
    ap.add_argument("--config", type=Path, default=ROOT / "config.yaml", help="the config to copy")
    ap.add_argument("--restart-at", type=float, metavar="MIN", help="stop and start Lookout again after MIN minutes")
    ap.add_argument("--json", type=Path, help="also write the result as JSON here")
    ap.add_argument("--strict", action="store_true", help="fail when anything went pending, firing or stale")
    ap.add_argument("--keep", action="store_true", help="keep the run's folder (store, log)")
    args = ap.parse_args(argv)
    # Stopped early (Ctrl-C, or SIGTERM; a background job ignores SIGINT): still stop Lookout and the
    # embedded servers on the way out, through run()'s finally blocks.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    r = run(args.minutes, args.config, args.keep, args.restart_at)
    print(report(r))
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    if r["ready_after_s"] is None or r["crashed"] or "notifications" not in r:
        return 2
    if r["notifications"] or (args.strict and r["not_ok"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
