"""GET /api/promises: the numbers of the evaluation each promise's alert was decided on."""
from __future__ import annotations

import time

import pytest

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Sample
from store import Store

CONFIG = """\
promises:
  include_defaults: false
  objectives:
    - id: checkout
      title: Checkout success
      objective: 0.99
      events:
        good: [{metric: checkout_total, match: {outcome: ok}}]
        total: [{metric: checkout_total}]
"""


@pytest.fixture
def runtime(tmp_path, sqlite_store_url):
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(sqlite_store_url))
    yield rt
    rt.store.close()


def checkouts(rt, failing: float, minutes: int) -> float:
    now = time.time()
    ok = bad = 0.0
    for i in range(minutes * 4 + 1):
        t = now - (minutes * 60) + i * 15
        rt.store.write_samples(t, [Sample("checkout_total", ok, {"outcome": "ok"}, "counter"),
                                   Sample("checkout_total", bad, {"outcome": "error"}, "counter")])
        ok += 10 * (1 - failing)
        bad += 10 * failing
    return now


def test_a_promise_not_evaluated_yet_says_so_without_numbers(runtime):
    body = create_app(runtime.config, runtime=runtime).test_client().get("/api/promises").get_json()
    assert body == {"promises": [{"id": "checkout", "title": "Checkout success", "unit": "ratio",
                                  "objective": 0.99, "verdict": "pending evaluation", "state": "ok"}]}


def test_a_failing_promise_reads_as_its_alert_says(runtime):
    now = checkouts(runtime, failing=0.5, minutes=70)
    assert runtime.alert_engine is not None
    runtime.alert_engine.evaluate(now)
    [p] = create_app(runtime.config, runtime=runtime).test_client().get("/api/promises").get_json()["promises"]
    assert (p["state"], p["severity"], p["verdict"]) == ("firing", "critical", "breached")
    assert p["value"] == pytest.approx(0.5)
    assert p["budget_left"] < 0
    assert "Checkout success 50.0 %" in p["summary"] and "nan" not in p["summary"].lower()
