"""Silences, acks, maintenance windows and dependencies each stop what they should, and nothing else."""
from __future__ import annotations

from tests.alerts.conftest import (
    T0,
    alerting,
    events,
    kinds,
    payload,
    put,
    rule,
    states,
)


def test_a_silence_mutes_matching_alerts_only_and_keeps_recording(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    engine.silence({"target": "a"}, None, clock.now + 3600, "ana", "migrating a")
    put(store, clock, 1.5, target="a")
    put(store, clock, 1.5, target="b")
    engine.evaluate()
    by_target = {payload(e)["series_labels"]["target"]: e for e in events(store)}
    assert by_target["a"].muted and "silenced by #1 (ana: migrating a)" == by_target["a"].muted_reason
    assert not by_target["b"].muted
    assert {s.alert_key: s.silenced_by for s in states(store)} == {'high{"target":"a"}': 1,
                                                                   'high{"target":"b"}': None}


def test_an_alert_still_firing_when_its_silence_expires_is_notified_then(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    sid = engine.silence(["target=~d."], None, clock.now + 3600, "ana", "noisy")
    put(store, clock, 1.5)
    engine.evaluate()
    clock.advance(15)
    assert engine.expire_silence(sid)
    put(store, clock, 1.5)
    engine.evaluate()
    assert [(e.event, e.muted) for e in events(store)] == [("firing", True), ("firing", False)]
    assert payload(events(store)[-1])["reason"] == "unmuted"


def test_the_resolve_of_an_alert_nobody_was_told_about_is_muted(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    engine.silence({"target": "db"}, None, clock.now + 20, "ana", "deploy")
    put(store, clock, 1.5)
    engine.evaluate()
    clock.advance(30)  # silence over, but the alert resolves in the same cycle
    put(store, clock, 0.5)
    engine.evaluate()
    assert [(e.event, e.muted) for e in events(store)] == [("firing", True), ("resolved", True)]


def test_an_ack_records_who_and_when_and_is_cleared_by_an_escalation(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    put(store, clock, 1.5)
    engine.evaluate()
    [st] = states(store)
    result = engine.ack(st.id, "bob")
    assert result["acked_by"] == "bob" and result["acked_at"] == T0
    clock.advance(15)
    put(store, clock, 1.5)
    engine.evaluate()
    assert states(store)[0].acked_by == "bob"  # same severity: the ack stands
    clock.advance(15)
    put(store, clock, 2.5)
    engine.evaluate()
    st = states(store)[0]
    assert (st.severity, st.acked_by, st.acked_at) == ("critical", None, None)
    assert kinds(store, unmuted_only=True) == ["firing", "escalated"]  # an ack mutes no event


def test_only_an_open_alert_can_be_acknowledged(store, clock, make_engine):
    import pytest

    from alerts.acks import AckError
    engine = make_engine(alerting(rule()))
    put(store, clock, 0.5)
    engine.evaluate()
    with pytest.raises(AckError) as exc:
        engine.ack(states(store)[0].id, "bob")
    assert exc.value.status == 409


def test_a_maintenance_window_mutes_notifications_but_not_evaluation(store, clock, make_engine):
    # T0 is Tuesday 2023-11-14 22:13:20 UTC.
    window = {"name": "nightly", "weekdays": ["tue"], "start": "22:00", "end": "23:00", "timezone": "UTC",
              "match": {"team": "db"}}
    engine = make_engine(alerting(rule(labels={"team": "db"}), rule("other", labels={"team": "web"}),
                                  maintenance=[window]))
    put(store, clock, 1.5)
    engine.evaluate()
    got = {payload(e)["rule"]: e for e in events(store)}
    assert got["high"].muted and got["high"].muted_reason == "maintenance window nightly"
    assert not got["other"].muted
    assert {s.rule: s.state for s in states(store)} == {"high": "firing", "other": "firing"}


def test_a_down_target_suppresses_its_alerts_and_its_down_alert_counts_them(store, clock, make_engine):
    down_rule = {"name": "target_down", "expr": {"metric": "lookout_target_up", "window": 60.0},
                 "op": "<", "critical": 1.0}
    engine = make_engine(alerting(rule(), down_rule, dependencies=[{"target": "db", "dependents": ["api"]}]))
    put(store, clock, 1, name="lookout_target_up", target="db")
    put(store, clock, 1, name="lookout_target_up", target="web")
    put(store, clock, 0.5, target="db")
    put(store, clock, 0.5, target="api")
    put(store, clock, 0.5, target="web")
    engine.evaluate()
    clock.advance(120)  # db goes down: its series (and api's) stop, web's breach
    put(store, clock, 0, name="lookout_target_up", target="db")
    put(store, clock, 1, name="lookout_target_up", target="web")
    put(store, clock, 1.5, target="web")
    engine.evaluate()
    got = {(payload(e)["rule"], payload(e)["series_labels"]["target"]): e for e in events(store)}
    assert got[("high", "db")].event == "stale" and got[("high", "db")].muted
    assert got[("high", "db")].muted_reason == "dependency: target db is down"
    assert got[("high", "api")].muted and got[("high", "api")].suppressed_by == "db"
    assert not got[("high", "web")].muted
    down = got[("target_down", "db")]
    assert down.event == "firing" and not down.muted
    assert payload(down)["suppressed_alerts"] == 2 and payload(down)["suppressed_events"] == 2
