"""The alerting JSON API through Flask's test client."""
from __future__ import annotations

import pytest
from flask import Flask

from alerts import api
from tests.alerts.conftest import alerting, put, rule, states


@pytest.fixture
def setup(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    app = Flask("t")
    api.init_app(app, engine)
    return app.test_client(), engine, store, clock


def test_a_silence_is_created_listed_and_expired(setup):
    client, _engine, _store, clock = setup
    r = client.post("/api/silences", json={"matchers": ["target=~d.*"], "duration": "2h",
                                           "author": "ana", "comment": "upgrade"})
    assert r.status_code == 201
    sid = r.get_json()["silence"]["id"]
    [s] = client.get("/api/silences").get_json()["silences"]
    assert s["status"] == "active" and s["ends_at"] == clock.now + 7200
    assert s["matchers"] == [{"name": "target", "op": "=~", "value": "d.*"}]
    assert client.delete(f"/api/silences/{sid}").status_code == 200
    assert client.get("/api/silences").get_json()["silences"] == []
    assert client.get("/api/silences?all=1").get_json()["silences"][0]["status"] == "expired"
    assert client.delete(f"/api/silences/{sid}").status_code == 404


def test_a_silence_without_author_or_with_a_bad_regex_is_a_400(setup):
    client = setup[0]
    r = client.post("/api/silences", json={"matchers": {"a": "b"}, "duration": "1h", "comment": "x"})
    assert r.status_code == 400 and "author" in r.get_json()["error"]
    r = client.post("/api/silences", json={"matchers": ["a=~("], "duration": "1h", "author": "a", "comment": "x"})
    assert r.status_code == 400 and "invalid regex" in r.get_json()["error"]


def test_a_firing_alert_is_listed_and_acknowledged(setup):
    client, engine, store, clock = setup
    put(store, clock, 1.5)
    engine.evaluate()
    [a] = client.get("/api/alerts?state=firing").get_json()["alerts"]
    assert a["labels"]["severity"] == "warning"
    r = client.post(f"/api/alerts/{a['id']}/ack", json={"who": "bob"})
    assert r.status_code == 200 and r.get_json()["acked_by"] == "bob"
    detail = client.get(f"/api/alerts/{a['id']}").get_json()
    assert detail["alert"]["acked_by"] == "bob" and [e["event"] for e in detail["events"]] == ["firing"]
    assert states(store)[0].acked_at == clock.now


def test_acking_needs_who_and_an_open_alert(setup):
    client, engine, store, clock = setup
    put(store, clock, 0.5)
    engine.evaluate()
    aid = states(store)[0].id
    assert client.post(f"/api/alerts/{aid}/ack", json={}).status_code == 400
    assert client.post(f"/api/alerts/{aid}/ack", json={"who": "bob"}).status_code == 409
    assert client.post("/api/alerts/999/ack", json={"who": "bob"}).status_code == 404
