"""A store with a known history for the report's tests: one payment outage, seen by every surface.

On a FakeClock from T0, every 15 s: payments (4 a step) and the pool's utilisation.

- 1 h quiet: every payment succeeds, the pool is 50 % busy;
- 25 min outage: every payment fails, the pool is 95 % busy;
- 40 min recovery: quiet again.

The alert engine evaluates every step, so the alert history holds real incidents of
``promise_payment_success``, ``promise_pool_utilisation`` and the threshold rule
``payment_failure_ratio``. Promises: payment success, pool utilisation and uptime (which has
no samples: no data); their burn alerts are the two paging pairs only, so the incidents
resolve within the recovery (the 3 d / 6 h ticket would hold for six hours).
"""
from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from alerts.config import AlertingConfig
from alerts.engine import AlertEngine
from core.samples import Sample
from promises.config import PromisesConfig
from store import Store
from tests.support import T0, FakeClock, migrate_store

STEP = 15.0
PER_STEP = 4.0
QUIET, OUTAGE, RECOVERY = 3600.0, 25 * 60.0, 40 * 60.0
# The history's times on a clock that starts at T0.
OUTAGE_START = T0 + QUIET
OUTAGE_END = OUTAGE_START + OUTAGE
END = OUTAGE_END + RECOVERY
SINCE = 3 * 3600.0  # the report's period: the whole history fits in it

OFF = ("cache_hit_rate", "p95_latency", "query_mean", "error_rate")
PAGES = [{"severity": "critical", "long": "1h", "short": "5m", "factor": 14.4},
         {"severity": "critical", "long": "6h", "short": "30m", "factor": 6.0}]
FAILURE_RULE = {
    "name": "payment_failure_ratio", "op": ">", "warning": 0.05, "critical": 0.10, "for": "2m",
    "ratio": {"numerator": {"metric": "shop_payments_total", "match": {"status": "failed"}, "agg": "increase",
                            "window": "10m", "by": ["target"]},
              "denominator": {"metric": "shop_payments_total", "agg": "increase", "window": "10m", "by": ["target"]},
              "min_denominator": 50}}


def promises() -> PromisesConfig:
    return PromisesConfig.model_validate(
        {"objectives": [{"id": i, "enabled": False} for i in OFF], "burn_alerts": PAGES},
        context={"from_file": True})


def alerting() -> AlertingConfig:
    return AlertingConfig.model_validate({"rules": [FAILURE_RULE]})


@dataclass
class Written:
    """The counters' last written values: what the report's numbers are checked against."""

    ok: float = 0.0
    failed: float = 0.0
    samples: list[tuple[float, float, float, float]] = field(default_factory=list)  # (ts, ok, failed, pool)


def seed(store: Store, clock: FakeClock) -> Written:
    """Write the history from ``clock.now`` on; the clock ends at its end."""
    engine = AlertEngine(alerting(), store, clock=clock, promises=promises())
    engine.migrate()
    w = Written()
    ok = failed = 0.0
    outage_start = clock.now + QUIET
    end = outage_start + OUTAGE + RECOVERY
    while clock.now < end:
        outage = outage_start <= clock.now < outage_start + OUTAGE
        pool = 0.95 if outage else 0.5
        store.write_samples(clock.now, [
            Sample("shop_payments_total", ok, {"status": "succeeded", "target": "shop"}, "counter"),
            Sample("shop_payments_total", failed, {"status": "failed", "target": "shop"}, "counter"),
            Sample("lookout_pool_utilization_ratio", pool, {"target": "pool"})])
        w.samples.append((clock.now, ok, failed, pool))
        w.ok, w.failed = ok, failed
        engine.evaluate()
        if outage:
            failed += PER_STEP
        else:
            ok += PER_STEP
        clock.advance(STEP)
    return w


@functools.cache
def recent() -> str:
    """A SQLite store whose history ends now (real time), made once a session: for the CLI,
    the web view and the browser, which read with the real clock. Read it, never write."""
    folder = Path(tempfile.mkdtemp(prefix="lookout-report-"))
    atexit.register(shutil.rmtree, folder, True)
    url = migrate_store(f"sqlite:///{folder / 'store.db'}")
    clock = FakeClock(time.time() - (QUIET + OUTAGE + RECOVERY))
    store = Store(url, clock=clock)
    try:
        seed(store, clock)
    finally:
        store.close()
    return url
