"""A target whose HTTP probes fail (a hang, garbage, 10 MB) is shown failing in /api/targets
and /api/health with the probe and the reason, though its collection ran (``up`` stays true,
as Prometheus' ``up`` does); once the probes pass again it is up again."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app import create_app
from collectors.registry import collector_for
from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Batch
from store import Store
from tests.collectors.http.hostile import ANSWERS, RawServer

GOOD = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


@pytest.fixture
def servers() -> Iterator[dict[str, RawServer]]:
    running = {name: RawServer(ANSWERS[name]) for name in ("hang", "not_http", "huge")}
    running["fine"] = RawServer(GOOD)
    yield running
    for s in running.values():
        s.stop()


@pytest.fixture
def polled(servers, migrated_store_url, tmp_path):
    def probe(name: str) -> str:
        return f'{{name: {name}, url: "http://127.0.0.1:{servers[name].port}/", timeout: 1s}}'

    config = f"""\
targets:
  - name: shop-api
    kind: http
    interval: 15s
    timeout: 10s
    probes: [{probe("fine")}, {probe("hang")}, {probe("not_http")}, {probe("huge")}]
  - name: shop-web
    kind: http
    interval: 15s
    timeout: 10s
    probes: [{probe("fine")}]
"""
    cfg = parse_config(config, env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(migrated_store_url))
    rt.store.heartbeat("w1", "worker")  # a live worker: the health check is about the targets
    collectors = [collector_for(t) for t in cfg.targets]

    def poll() -> None:
        for c in collectors:
            rt.pipeline.collect(c, 15)

    poll()
    yield create_app(cfg, runtime=rt), poll, rt
    for c in collectors:
        c.close()
    rt.store.close()


def test_targets_show_a_target_with_failing_probes_as_failing_with_probe_and_reason(polled):
    app, _, _ = polled
    targets = {t["name"]: t for t in app.test_client().get("/api/targets").json["targets"]}
    api = targets["shop-api"]
    assert api["up"] is True  # the collection ran
    assert api["status"] == "failing"
    assert {(f["probe"], f["reason"]) for f in api["failing_probes"]} == {
        ("hang", "timeout"), ("not_http", "invalid_response"), ("huge", "too_large")}
    assert all(f["error"] for f in api["failing_probes"])
    assert api["last_error"].startswith("3 probes failing: hang (timeout): ")
    web = targets["shop-web"]
    assert (web["status"], web["failing_probes"], web["last_error"]) == ("up", [], None)


def test_health_warns_about_the_failing_target_with_its_probes(polled):
    app, _, _ = polled
    body = app.test_client().get("/api/health").json
    assert body["status"] == "warn"
    health = {t["name"]: t for t in body["targets"]}
    assert health["shop-api"]["status"] == "warn" and health["shop-api"]["state"] == "failing"
    assert {f["probe"] for f in health["shop-api"]["failing_probes"]} == {"hang", "not_http", "huge"}
    assert "not_http (invalid_response): the answer is not valid HTTP" in health["shop-api"]["last_error"]
    assert health["shop-web"]["status"] == "pass"


def test_a_target_whose_probes_pass_again_is_up_again(polled, servers):
    app, poll, _ = polled
    for name in ("hang", "not_http", "huge"):
        servers[name].answer = GOOD
    poll()
    client = app.test_client()
    api = next(t for t in client.get("/api/targets").json["targets"] if t["name"] == "shop-api")
    assert (api["up"], api["status"], api["failing_probes"], api["last_error"]) == (True, "up", [], None)
    assert client.get("/api/health").json["status"] == "pass"


def test_a_down_target_is_down_not_failing(polled):
    app, _, rt = polled
    rt.pipeline.handle(Batch(target="shop-api", kind="http", started_at=time.time() + 1, up=False,
                             error="collector crashed"), 15)
    api = next(t for t in app.test_client().get("/api/targets").json["targets"] if t["name"] == "shop-api")
    assert (api["up"], api["status"], api["failing_probes"], api["last_error"]) == (
        False, "down", [], "collector crashed")
