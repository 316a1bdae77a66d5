"""Detection delay: crossing sample -> Slack webhook arriving, through the running process.

Builds the real runtime (store, pipeline, APScheduler with ENGINE's evaluate job
and the 1 s route+dispatch job, the pipeline's after-batch trigger), hands a
batch whose sample crosses the critical threshold to ``pipeline.handle`` the way
a collection does, and times until a local webhook server receives the FIRING
message. Then it pushes a good value, waits for the RESOLVED message, and
waits a random 1-2 s (Slack spacing, and a random phase against the ticks).

    .venv/bin/python bench/bench_alert_delay.py [--trials 30] [--interval 15] [--no-trigger]

``--no-trigger`` removes the after-batch evaluation, leaving only the periodic
evaluation every ``--interval`` seconds (what Prometheus-style evaluation does).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Batch, Sample
from tests.alerts.notify.servers import WebhookServer

METRIC = "shop_payment_failure_ratio"


def config_text(db: Path, webhook: str, interval: float) -> str:
    return f"""
store: {{url: "sqlite:///{db}"}}
targets: []
alerting:
  evaluation_interval: {interval:g}s
  flapping: {{transitions: 1000}}   # the bench fires and resolves on purpose, dozens of times
  rules:
    - name: payment_failure_ratio
      expr: {{metric: {METRIC}, agg: last, window: 1m}}
      warning: 0.05
      critical: 0.1
  notifications:
    receivers:
      - name: slack
        slack: {{webhook_url: "{webhook}"}}
"""


def wait_for(server: WebhookServer, n: int, timeout: float) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with server._lock:
            ok = [r for r in server.requests if r.status == 200]
        if len(ok) >= n:
            return ok[n - 1].at
        time.sleep(0.002)
    raise TimeoutError(f"message {n} did not arrive within {timeout}s")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p / 100 * len(s) + 0.5) - 1))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=30)
    ap.add_argument("--interval", type=float, default=15.0)
    ap.add_argument("--no-trigger", action="store_true")
    args = ap.parse_args()
    server = WebhookServer()
    tmp = Path(tempfile.mkdtemp(prefix="lookout-bench-"))
    cfg = parse_config(config_text(tmp / "lookout.db", server.url, args.interval), base_dir=tmp)
    runtime = build_runtime(cfg)
    if args.no_trigger:
        runtime.pipeline.listeners.clear()
    runtime.start()
    delays: list[float] = []
    expected = 0
    try:
        time.sleep(1.0)
        for trial in range(args.trials):
            t = time.time()
            runtime.pipeline.handle(Batch(target="shop", kind="bench", started_at=t,
                                          samples=[Sample(METRIC, 0.2)]))
            expected += 1
            arrived = wait_for(server, expected, args.interval + 30)
            delays.append(arrived - t)
            text = server.delivered[-1]["text"]
            assert text.startswith("[FIRING]"), text
            runtime.pipeline.handle(Batch(target="shop", kind="bench", started_at=time.time(),
                                          samples=[Sample(METRIC, 0.0)]))
            expected += 1
            wait_for(server, expected, args.interval + 30)
            assert server.delivered[-1]["text"].startswith("[RESOLVED]")
            print(f"trial {trial + 1:2d}: {delays[-1] * 1000:7.1f} ms", flush=True)
            time.sleep(1.0 + random.random())
    finally:
        runtime.stop()
        server.close()
    mode = "periodic evaluation only" if args.no_trigger else "after-batch trigger + periodic evaluation"
    p50, p95 = statistics.median(delays), pct(delays, 95)
    print(f"\n{mode}, evaluation_interval={args.interval:g}s, trials={len(delays)}")
    print(f"p50 {p50:.3f} s   p95 {p95:.3f} s   max {max(delays):.3f} s   "
          f"target p95 <= {args.interval + 1:g} s: {'met' if p95 <= args.interval + 1 else 'MISSED'}")
    print(f"messages received: {len(server.requests)} (expected {expected}, duplicates: "
          f"{len(server.requests) - expected})")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
