"""A configured path that matches nothing in an answer is reported: the probe fails with
``mapping_miss`` while what did match is still mapped, ``lookout_mapping_misses_total`` counts
it, the log says so once, and ``/api/targets`` shows the target failing with that error."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from app import create_app
from collectors.http.collector import HttpCollector
from collectors.registry import collector_for
from composition.config import parse_config
from composition.runtime import build_runtime
from store import Store
from tests.collectors.http.helpers import failure, target, value

# Node-style health: {status, services: {name: {status, responseTime}}}; "latency_ms" is not in it.
HEALTH = {"dependencies": "$.services", "latency": "latency_ms", "latency_unit": "ms", "overall": "$.status"}


def test_a_latency_path_that_matches_in_no_entry_fails_the_probe_and_keeps_the_up_series(shop, caplog):
    c = HttpCollector(target(url=f"{shop.url}/api/health-degraded", expect_status=["2xx", "503"], health=HEALTH))
    caplog.set_level(logging.INFO, logger="lookout.collectors.http")
    try:
        first, second = c.run(), c.run()
    finally:
        c.close()
    assert first.up  # the collection ran
    assert failure(second, "shop") == (
        "mapping_miss", "health document: path 'latency_ms' matched nothing in any entry of '$.services'")
    assert value(second, "lookout_http_probe_success", probe="shop") == 0
    assert value(second, "lookout_http_probe_failure", probe="shop", reason="mapping_miss") == 1
    assert value(second, "lookout_http_dependency_up", dependency="database") == 1
    assert value(second, "lookout_mapping_misses_total", probe="shop", path="latency_ms") == 2
    assert value(second, "lookout_mapping_misses_total", probe="shop", path="$.services") == 0
    warnings = [r for r in caplog.records if "'latency_ms' matched nothing" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_a_miss_is_logged_again_only_after_the_path_matched_in_between(shop, caplog):
    caplog.set_level(logging.INFO, logger="lookout.collectors.http")
    def health_at(path: str):
        return target(probes=[{"name": "health", "url": f"{shop.url}{path}", "expect_status": ["2xx", "5xx"],
                               "health": {"dependencies": "$.services"}}])

    c = HttpCollector(health_at("/api/health-degraded"))
    try:
        c.run()
        c.target = health_at("/api/health")            # an answer without services: a miss
        c.run(), c.run()
        c.target = health_at("/api/health-degraded")
        back = c.run()
        c.target = health_at("/api/health")
        c.run()
    finally:
        c.close()
    assert value(back, "lookout_http_probe_success", probe="health") == 1
    messages = [r.getMessage() for r in caplog.records if "'$.services'" in r.getMessage()]
    assert [m.split(": ", 1)[1].split(" (")[0] for m in messages] == [
        "path '$.services' matched nothing in the answer", "path '$.services' matches again",
        "path '$.services' matched nothing in the answer"]
    assert "(no 'services' at the top)" in messages[0]


def test_a_miss_in_a_503_answer_keeps_the_status_as_the_reason_and_notes_the_miss(shop):
    c = HttpCollector(target(url=f"{shop.url}/api/health-degraded", expect_status=[200], health=HEALTH))
    try:
        b = c.run()
    finally:
        c.close()
    assert failure(b, "shop")[0] == "status"
    assert "'latency_ms' matched nothing" in b.documents["probes"]["shop"]["health_error"]
    assert value(b, "lookout_mapping_misses_total", probe="shop", path="latency_ms") == 1


@pytest.fixture
def api(shop, migrated_store_url, tmp_path) -> Iterator:
    cfg = parse_config(f"""\
targets:
  - name: shop-api
    kind: http
    interval: 15s
    timeout: 10s
    base_url: {shop.url}
    probes:
      - {{name: health, url: /api/health-degraded, expect_status: [2xx, 503],
          health: {{dependencies: $.services, latency: latency_ms, overall: $.status}}}}
      - {{name: home, url: /ok}}
""", env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(migrated_store_url))
    collector = collector_for(cfg.targets[0])
    rt.pipeline.collect(collector, 15)
    yield create_app(cfg, runtime=rt)
    collector.close()
    rt.store.close()


def test_the_target_is_up_and_failing_in_api_targets_with_the_path_that_matched_nothing(api):
    t = api.test_client().get("/api/targets").json["targets"][0]
    assert t["up"] is True and t["status"] == "failing"
    assert t["failing_probes"] == [{"probe": "health", "reason": "mapping_miss", "error":
                                    "health document: path 'latency_ms' matched nothing in any entry of '$.services'"}]
    assert t["last_error"].startswith("1 probe failing: health (mapping_miss): ")
