from __future__ import annotations

import time

import pytest

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Batch, Sample
from store import Store

CONFIG = """\
targets:
  - {name: db, kind: process, interval: 15s}
  - {name: cache, kind: process, interval: 15s}
"""


@pytest.fixture
def runtime(tmp_path, sqlite_store_url):
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(sqlite_store_url))
    yield rt
    rt.store.close()


def feed(rt, name: str, up: bool = True, error: str | None = None, value: float = 1.0, ts: float | None = None):
    batch = Batch(target=name, kind="process", started_at=ts or time.time(), up=up, error=error,
                  samples=[Sample("demo_gauge", value, {"x": "a"}, help="demo")])
    rt.pipeline.handle(batch, interval=15)


def test_health_passes_when_every_target_collected_and_a_worker_is_alive(runtime):
    feed(runtime, "db")
    feed(runtime, "cache")
    runtime.store.heartbeat("w1", "worker")
    res = create_app(runtime.config, runtime=runtime).test_client().get("/api/health")
    assert res.status_code == 200
    body = res.get_json()
    assert body["status"] == "pass"
    assert {t["name"]: t["status"] for t in body["targets"]} == {"db": "pass", "cache": "pass"}
    assert body["targets"][0]["last_success_age_seconds"] < 5


def test_health_warns_with_the_error_when_a_target_is_down(runtime):
    feed(runtime, "db")
    feed(runtime, "cache", up=False, error="connection refused")
    runtime.store.heartbeat("w1", "worker")
    res = create_app(runtime.config, runtime=runtime).test_client().get("/api/health")
    assert res.status_code == 200
    body = res.get_json()
    assert body["status"] == "warn"
    cache = next(t for t in body["targets"] if t["name"] == "cache")
    assert cache["up"] is False and cache["last_error"] == "connection refused"


def test_health_fails_with_503_when_no_scheduler_is_alive(runtime):
    feed(runtime, "db")
    feed(runtime, "cache")
    res = create_app(runtime.config, runtime=runtime).test_client().get("/api/health")
    assert res.status_code == 503
    assert res.get_json()["checks"]["scheduler"]["status"] == "fail"


def test_health_fails_with_503_when_the_store_is_not_writable(tmp_path):
    path = tmp_path / "ro.db"
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path)
    build_runtime(cfg, role="web", store=Store(f"sqlite:///{path}")).stop()  # creates every table
    rt = build_runtime(cfg, role="web", store=Store(f"sqlite:///file:{path}?mode=ro&uri=true"))
    res = create_app(cfg, runtime=rt).test_client().get("/api/health")
    assert res.status_code == 503
    body = res.get_json()
    assert body["status"] == "fail" and body["checks"]["store"]["status"] == "fail"
    assert "readonly" in body["checks"]["store"]["error"].lower().replace(" ", "")


def test_series_returns_downsampled_points(runtime):
    now = time.time()
    for i in range(100):
        feed(runtime, "db", value=float(i), ts=now - 100 + i)
    client = create_app(runtime.config, runtime=runtime).test_client()
    res = client.get(f"/api/series?name=demo_gauge&labels=target=db&start={now - 200}&end={now + 1}&points=10")
    assert res.status_code == 200
    [series] = res.get_json()["series"]
    assert series["labels"] == {"target": "db", "x": "a"}
    assert len(series["points"]) <= 10
    assert max(p[2] for p in series["points"]) == 99.0


def test_targets_list_configured_targets_with_their_state(runtime):
    feed(runtime, "db")
    res = create_app(runtime.config, runtime=runtime).test_client().get("/api/targets")
    got = {t["name"]: t for t in res.get_json()["targets"]}
    assert got["db"]["up"] is True and got["cache"]["up"] is None


@pytest.mark.parametrize("query,param", [
    ("", "name"),
    ("name=bad-name", "name"),
    ("name=x&labels=notapair", "labels"),
    ("name=x&labels={bad json", "labels"),
    ("name=x&start=yesterday", "start"),
    ("name=x&end=now-5parsecs", "end"),
    ("name=x&points=0", "points"),
    ("name=x&points=many", "points"),
    ("name=x&start=now&end=now-1h", "start"),
    ("name=x&mode=median", "mode"),
])
def test_bad_series_parameters_answer_400_naming_the_parameter(runtime, query, param):
    res = create_app(runtime.config, runtime=runtime).test_client().get(f"/api/series?{query}")
    assert res.status_code == 400
    body = res.get_json()
    assert body["param"] == param and body["error"].startswith(f"{param}: ")
