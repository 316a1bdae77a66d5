"""Two evaluators on one PostgreSQL store never both fire."""
from __future__ import annotations

import threading

import pytest

from alerts.engine import AlertEngine
from core.samples import Sample
from store import Store
from tests.alerts.conftest import T0, alerting, kinds, rule


@pytest.mark.parametrize("for_", [0.0, 30.0])
def test_two_engines_evaluating_at_once_write_exactly_one_firing_event(pg_store_url, for_):
    store_a, store_b = Store(pg_store_url), Store(pg_store_url)
    store_a.migrate()
    cfg = alerting(rule(**{"for": for_}))
    a, b = AlertEngine(cfg, store_a), AlertEngine(cfg, store_b)
    a.migrate()
    for i in range(3):
        store_a.write_samples(T0 + i * 15, [Sample("m", 1.5, labels={"target": "db"})])
    if for_:
        a.evaluate(T0)  # both start from the same stored pending state
    for _round in range(5):
        barrier = threading.Barrier(2)
        reports = []

        def run(engine: AlertEngine, barrier: threading.Barrier = barrier, reports: list = reports) -> None:
            barrier.wait()
            reports.append(engine.evaluate(T0 + 30))
        threads = [threading.Thread(target=run, args=(e,)) for e in (a, b)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    assert kinds(store_a) == ["firing"]
    store_a.close()
    store_b.close()
