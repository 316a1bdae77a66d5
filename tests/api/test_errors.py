"""Bad values are 400s naming the parameter, unknown /api paths JSON 404s, and neither /api/ nor
/ack/ ever falls through to the dashboard's HTML; on SQLite and on PostgreSQL (32-bit ids)."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Batch, Sample
from store import Store

CONFIG = """\
targets:
  - {name: db, kind: process, interval: 15s}
alerting:
  notifications:
    receivers:
      - {name: demo-sink, sink: {}}
    default_receivers: [demo-sink]
"""
DASHBOARD = "_dash-config"  # in the dashboard's HTML shell, nowhere in an API answer


@pytest.fixture
def app(migrated_store_url, tmp_path) -> Iterator[Flask]:
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(migrated_store_url))
    rt.pipeline.handle(Batch(target="db", kind="process", started_at=time.time(), up=True,
                             samples=[Sample("demo_gauge", 1.0, {"x": "a"}, help="demo")]), 15)
    yield create_app(cfg, runtime=rt)
    rt.store.close()


@pytest.mark.parametrize("path", ["/api/nope", "/api/targets/db", "/api", "/api/alerts/1/nope", "/api/series/x"])
def test_an_unknown_api_path_is_a_json_404(app, path):
    res = app.test_client().get(path)
    assert res.status_code == 404 and res.is_json
    assert "no API endpoint" in res.json["error"]
    assert DASHBOARD not in res.get_data(as_text=True)


def test_a_known_api_path_with_the_wrong_method_is_a_json_405_with_allow(app):
    res = app.test_client().delete("/api/targets")
    assert res.status_code == 405 and res.is_json
    assert "GET" in res.headers["Allow"] and "DELETE is not allowed" in res.json["error"]


@pytest.mark.parametrize("path", ["/ack/", "/ack/a/b", "/ack/x/y/z"])
def test_a_path_under_ack_that_is_no_ack_link_is_a_404_not_the_dashboard(app, path):
    res = app.test_client().get(path)
    assert res.status_code == 404
    body = res.get_data(as_text=True)
    assert "Not an acknowledgement link" in body and DASHBOARD not in body


def test_an_ack_link_with_a_bad_token_says_it_cannot_acknowledge(app):
    res = app.test_client().get("/ack/not-a-signed-token")
    assert res.status_code == 400 and "Cannot acknowledge" in res.get_data(as_text=True)


def test_pages_still_get_the_dashboard(app):
    res = app.test_client().get("/cache")
    assert res.status_code == 200 and DASHBOARD in res.get_data(as_text=True)


@pytest.mark.parametrize("query,param", [
    ("name=demo_gauge&labels=x=a%00b", "labels"),
    ('name=demo_gauge&labels={"x":"a\\u0000"}', "labels"),
    ("name=demo_gauge&points=1_000", "points"),
    ("name=demo_gauge&points=%2B5", "points"),
    ("name=demo_gauge&points=99999999999999999999999", "points"),
    ("name=demo_gauge&points=-1", "points"),
])
def test_series_values_the_store_cannot_take_are_400s(app, query, param):
    res = app.test_client().get(f"/api/series?{query}")
    assert res.status_code == 400, res.get_data(as_text=True)
    assert res.json["param"] == param


@pytest.mark.parametrize("query,param", [
    (f"since_id={2**31}", "since_id"),        # past PostgreSQL's INTEGER id column
    (f"since_id={2**63}", "since_id"),
    ("since_id=-1", "since_id"),
    ("since_id=1e3", "since_id"),
    ("limit=-1", "limit"),                    # refused, not clamped to 1
    ("limit=0", "limit"),
    ("limit=100000", "limit"),
    ("limit=ten", "limit"),
    ("receiver=demo%00sink", "receiver"),
])
def test_sink_parameters_out_of_the_stores_range_are_400s_not_guesses(app, query, param):
    res = app.test_client().get(f"/api/sink?{query}")
    assert res.status_code == 400, res.get_data(as_text=True)
    assert res.json["param"] == param and res.json["error"].startswith(param)


def test_the_largest_id_the_store_holds_is_accepted(app):
    res = app.test_client().get(f"/api/sink?since_id={2**31 - 1}&limit=500&receiver=demo-sink")
    assert res.status_code == 200 and res.json["messages"] == []
