"""The alerting JSON API through Flask's test client, and the read API (alerts.queries) behind it."""
from __future__ import annotations

import pytest
from flask import Flask

from alerts import api, queries
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


def test_an_unknown_state_filter_is_a_400_naming_the_choices(setup):
    r = setup[0].get("/api/alerts?state=burning")
    assert r.status_code == 400 and "open" in r.get_json()["error"]


def test_an_alert_that_does_not_exist_is_a_404(setup):
    assert setup[0].get("/api/alerts/999").status_code == 404
    assert setup[0].get("/api/alerts/99999999999999999999").status_code == 404


# -- the read API -------------------------------------------------------------------

def test_open_alerts_are_the_ones_not_ok_with_their_rendered_annotations(store, clock, make_engine):
    engine = make_engine(alerting(rule(annotations={"summary": "{labels[target]} at {value:.1f}"})))
    put(store, clock, 1.5, target="a")
    put(store, clock, 0.5, target="b")
    engine.evaluate()
    [a] = queries.open_alerts(store.engine)
    assert (a.rule, a.series_labels, a.state, a.severity) == ("high", {"target": "a"}, "firing", "warning")
    assert a.annotations["summary"] == "a at 1.5"


def test_alert_rows_filter_on_open_and_refuse_an_unknown_state(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    put(store, clock, 1.5, target="a")
    put(store, clock, 0.5, target="b")
    engine.evaluate()
    assert [r["series_labels"] for r in queries.alert_rows(store.engine, "open")] == [{"target": "a"}]
    assert len(queries.alert_rows(store.engine)) == 2
    with pytest.raises(ValueError, match="state must be one of"):
        queries.alert_rows(store.engine, "burning")


def test_transitions_between_keep_to_the_window_oldest_first(store, clock, make_engine):
    engine = make_engine(alerting(rule(**{"for": 30.0})))
    start = clock.now
    for v in (1.5, 1.5, 1.5, 0.5):
        put(store, clock, v)
        engine.evaluate()
        clock.advance(15)
    got = queries.transitions_between(store.engine, start, clock.now)
    assert [(c.from_state, c.to_state) for c in got] == [("ok", "pending"), ("pending", "firing"), ("firing", "ok")]
    assert [c.to_state for c in queries.transitions_between(store.engine, start + 1, start + 40)] == ["firing"]


def test_a_silence_is_read_back_by_its_id_and_an_unknown_id_is_none(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    sid = engine.silence({"target": "a"}, None, clock.now + 60, "ana", "upgrade")
    got = queries.get_silence(store.engine, sid)
    assert got is not None and (got.author, got.ends_at) == ("ana", clock.now + 60)
    assert queries.get_silence(store.engine, sid + 1) is None


# -- what /api/alerts lists and says ------------------------------------------------------

def test_the_alert_list_shows_only_what_is_not_ok_unless_asked_for_all(setup):
    client, engine, store, clock = setup
    put(store, clock, 1.5, target="a")
    put(store, clock, 0.5, target="b")
    engine.evaluate()

    def targets(query: str) -> list[str]:
        return [a["series_labels"]["target"] for a in client.get(f"/api/alerts{query}").get_json()["alerts"]]
    assert targets("") == ["a"]
    assert targets("?state=all") == ["a", "b"]
    assert targets("?state=ok") == ["b"]
    assert targets("?state=not_ok") == ["a"]


def test_an_ok_alert_reads_as_its_rules_condition_not_as_its_firing_text(store, clock, make_engine):
    engine = make_engine(alerting(rule(annotations={"summary": "Target {labels[target]} is down",
                                                    "description": "Lookout cannot collect {labels[target]}",
                                                    "runbook_url": "https://runbooks.example/down"})))
    app = Flask("t")
    api.init_app(app, engine)
    put(store, clock, 1.5, target="a")
    put(store, clock, 0.5, target="b")
    engine.evaluate()
    by_target = {a["series_labels"]["target"]: a for a in
                 app.test_client().get("/api/alerts?state=all").get_json()["alerts"]}
    assert by_target["a"]["annotations"]["summary"] == "Target a is down"
    assert by_target["b"]["annotations"] == {"summary": "OK: warning above 1, critical above 2",
                                             "runbook_url": "https://runbooks.example/down"}


def test_an_alert_says_when_its_episode_began(store, clock, make_engine):
    engine = make_engine(alerting(rule(**{"for": 30.0})))
    app = Flask("t")
    api.init_app(app, engine)
    client = app.test_client()
    start = clock.now
    for _ in range(3):
        put(store, clock, 1.5)
        engine.evaluate()
        clock.advance(15)
    [a] = client.get("/api/alerts").get_json()["alerts"]
    assert (a["state"], a["started_at"], a["firing_since"]) == ("firing", start, start + 30)


def test_no_summary_in_the_alert_list_says_nan(store, clock, make_engine):
    share = {"name": "share", "ratio": {"numerator": {"metric": "num", "window": 60.0},
                                        "denominator": {"metric": "den", "window": 60.0}},
             "warning": 0.5, "annotations": {"summary": "share {value:.0%}, mean {value}s"}}
    engine = make_engine(alerting(share, rule(annotations={"summary": "{labels[target]} at {value:.1f}"})))
    app = Flask("t")
    api.init_app(app, engine)
    put(store, clock, 0.0, name="num", target="x")
    put(store, clock, 0.0, name="den", target="x")  # 0/0: never a value
    put(store, clock, 0.5, target="y")
    engine.evaluate()
    clock.advance(120)
    put(store, clock, 0.0, name="num", target="z")
    put(store, clock, 0.0, name="den", target="z")
    engine.evaluate()  # x and y: no data; z: undefined, ok
    alerts = app.test_client().get("/api/alerts?state=all").get_json()["alerts"]
    assert sorted(a["state"] for a in alerts) == ["ok", "stale", "stale"]
    for a in alerts:
        for text in a["annotations"].values():
            assert "nan" not in text.lower(), (a["alert_key"], text)


@pytest.mark.parametrize(("method", "path", "body", "param"), [
    ("get", "/api/alerts/1?limit=x", None, "limit"),
    ("get", "/api/alerts/1?limit=0", None, "limit"),
    ("get", "/api/silences?all=maybe", None, "all"),
    ("post", "/api/alerts/1/ack", {"who": "bob", "comment": {"a": 1}}, "comment"),
    ("post", "/api/alerts/1/ack", {"who": "bob", "comment": ["x"]}, "comment"),
    ("post", "/api/alerts/1/ack", {"who": "b\x00ob"}, "who"),
    ("post", "/api/silences", {"matchers": {"a": "b\x00"}, "duration": "1h", "author": "a", "comment": "x"},
     "matchers"),
    ("post", "/api/silences", {"matchers": {"a": "b"}, "duration": "1h", "author": "a\x00", "comment": "x"},
     "author"),
])
def test_a_bad_parameter_is_a_400_naming_it_never_a_guess(setup, method, path, body, param):
    client, engine, store, clock = setup
    put(store, clock, 1.5)
    engine.evaluate()
    r = getattr(client, method)(path, json=body) if body is not None else getattr(client, method)(path)
    assert r.status_code == 400, r.get_data(as_text=True)
    assert r.get_json()["param"] == param


@pytest.mark.parametrize("path", ["/api/alerts/2147483648", "/api/alerts/9223372036854775808"])
def test_an_id_beyond_the_stores_column_is_a_404(setup, path):
    assert setup[0].get(path).status_code == 404
    assert setup[0].delete(path.replace("alerts", "silences")).status_code == 404
