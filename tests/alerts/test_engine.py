"""The engine against the real store (SQLite and PostgreSQL) with a fake clock."""
from __future__ import annotations

import json
import logging

from core.samples import Sample
from tests.alerts.conftest import (
    alerting,
    events,
    kinds,
    payload,
    put,
    rule,
    states,
    transitions,
)


def test_a_value_over_the_threshold_fires_once_with_state_and_history(store, clock, make_engine):
    engine = make_engine(alerting(rule(**{"for": 30.0}, labels={"team": "db"},
                                       annotations={"summary": "{labels[target]} is at {value:.1f} > {warning}"})))
    for v in (0.5, 1.5, 1.5, 1.5, 1.5):
        put(store, clock, v)
        engine.evaluate()
        clock.advance(15)
    assert kinds(store) == ["firing"]
    [st] = states(store)
    assert (st.state, st.severity, st.pending_since) == ("firing", "warning", clock.now - 60)
    [e] = events(store)
    p = payload(e)
    assert p["labels"] == {"target": "db", "team": "db", "alertname": "high", "severity": "warning"}
    assert p["annotations"]["summary"] == "db is at 1.5 > 1"  # {warning} in the rule's unit ("none")
    assert p["thresholds"]["warning"] == 1.0 and p["muted"] is False
    assert [(t.from_state, t.to_state) for t in transitions(store)] == [("ok", "pending"), ("pending", "firing")]


def test_each_series_is_its_own_alert(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    put(store, clock, 1.5, target="a")
    put(store, clock, 0.5, target="b")
    engine.evaluate()
    assert sorted((s.alert_key, s.state) for s in states(store)) == [
        ('high{"target":"a"}', "firing"), ('high{"target":"b"}', "ok")]


def test_a_restarted_engine_keeps_the_pending_timer_and_sends_no_duplicate(store, clock, make_engine):
    cfg = alerting(rule(**{"for": 40.0}))
    first = make_engine(cfg)
    put(store, clock, 1.5)
    first.evaluate()
    clock.advance(30)
    put(store, clock, 1.5)
    first.evaluate()
    second = make_engine(cfg)  # a new process: nothing in memory
    clock.advance(15)
    put(store, clock, 1.5)
    second.evaluate()
    assert kinds(store) == ["firing"]  # 45 s after the first breach, not 40 s after the restart
    third = make_engine(cfg)
    clock.advance(15)
    put(store, clock, 1.5)
    third.evaluate()
    assert kinds(store) == ["firing"]


def test_a_series_that_disappears_raises_a_stale_alert_naming_it(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    put(store, clock, 1.5)
    engine.evaluate()
    clock.advance(120)  # past the 60 s window
    engine.evaluate()
    assert kinds(store) == ["firing", "stale"]
    st = payload(events(store)[-1])
    assert "db" in st["annotations"]["summary"] and st["series_labels"] == {"target": "db"}


def test_a_ratio_rule_compares_failures_over_payments(store, clock, make_engine):
    r = {"name": "payment_failures", "ratio": {
        "numerator": {"metric": "payments_failed_total", "agg": "increase", "window": 60.0},
        "denominator": {"metric": "payments_total", "agg": "increase", "window": 60.0}},
        "warning": 0.05, "critical": 0.10}
    engine = make_engine(alerting(r))
    for failed, total in ((0, 0), (3, 50), (9, 100)):
        store.write_samples(clock.now, [
            Sample("payments_failed_total", failed, labels={"target": "shop"}, kind="counter"),
            Sample("payments_total", total, labels={"target": "shop"}, kind="counter")])
        engine.evaluate()
        clock.advance(15)
    [st] = states(store)
    assert st.state == "firing" and st.severity == "warning" and abs(st.value - 0.09) < 1e-9


def test_a_ratio_below_its_minimum_denominator_is_undefined_and_keeps_state(store, clock, make_engine):
    r = {"name": "payment_failures", "ratio": {
        "numerator": {"metric": "payments_failed_total", "agg": "increase", "window": 60.0},
        "denominator": {"metric": "payments_total", "agg": "increase", "window": 60.0},
        "min_denominator": 40},
        "warning": 0.05, "critical": 0.10}
    engine = make_engine(alerting(r))

    def step(failed: int, total: int) -> None:
        store.write_samples(clock.now, [
            Sample("payments_failed_total", failed, labels={"target": "shop"}, kind="counter"),
            Sample("payments_total", total, labels={"target": "shop"}, kind="counter")])
        engine.evaluate()
        clock.advance(15)

    step(0, 0)
    step(2, 10)  # 20 % of 10 payments: too few to tell
    assert states(store) == [] or states(store)[0].state == "ok"
    step(6, 50)  # 12 % of 50: critical
    [st] = states(store)
    assert st.state == "firing" and st.severity == "critical"


def test_a_rule_reading_a_metric_nobody_produces_is_reported_after_the_grace(store, clock, make_engine, caplog):
    engine = make_engine(alerting(rule(metric="no_such_metric"), rule("known"), unknown_metric_grace=60.0))
    put(store, clock, 0.5)
    assert engine.evaluate().unknown_metrics == []
    clock.advance(61)
    with caplog.at_level(logging.WARNING, logger="lookout.alerts"):
        assert engine.evaluate().unknown_metrics == ["no_such_metric"]
        clock.advance(15)
        assert engine.evaluate().unknown_metrics == ["no_such_metric"]
    assert sum("no_such_metric" in r.getMessage() for r in caplog.records) == 1


def test_one_broken_rule_does_not_stop_the_others(store, clock, make_engine, monkeypatch):
    engine = make_engine(alerting(rule("broken", metric="x"), rule("fine")))
    import alerts.engine as eng
    real = eng.rule_values

    def fail_one(r, source, now, *args):
        if r.name == "broken":
            raise RuntimeError("boom")
        return real(r, source, now, *args)
    monkeypatch.setattr(eng, "rule_values", fail_one)
    put(store, clock, 1.5)
    report = engine.evaluate()
    assert report.errors == {"broken": "RuntimeError: boom"} and kinds(store) == ["firing"]


def test_a_late_collection_of_a_15s_target_is_not_no_data_but_two_missed_ones_are(store, clock):
    from alerts.engine import AlertEngine
    # window 20 s on a 15 s target: one late poll empties the window.
    engine = AlertEngine(alerting(rule("target_down", metric="lookout_target_up", op="<", warning=None,
                                       critical=1.0, expr={"metric": "lookout_target_up", "window": 20.0})),
                         store, clock=clock, intervals={"db": 15.0})
    engine.migrate()
    put(store, clock, 1.0, name="lookout_target_up")
    engine.evaluate()
    clock.advance(15)
    put(store, clock, 1.0, name="lookout_target_up")
    for _ in range(27):  # the poll due at 30 s lands at 42 s; evaluated every second meanwhile
        clock.advance(1)
        engine.evaluate()
    put(store, clock, 1.0, name="lookout_target_up")
    engine.evaluate()
    assert kinds(store) == [] and states(store)[0].state == "ok"
    clock.advance(44)  # newest sample 44 s old, two polls late: not yet
    engine.evaluate()
    assert kinds(store) == []
    clock.advance(1)  # three intervals without a sample: no data
    engine.evaluate()
    assert kinds(store) == ["stale"]
    assert AlertEngine(alerting(), store).intervals == {}  # no targets known: the window alone decides


def test_a_new_series_whose_first_sample_starts_after_the_evaluation_clock_is_not_no_data(store, clock,
                                                                                          make_engine):
    engine = make_engine(alerting(rule("target_down", metric="lookout_target_up", op="<", warning=None,
                                       critical=1.0, expr={"metric": "lookout_target_up", "window": 30.0})))
    now = clock.now
    clock.advance(0.2)  # the target's first collection starts just after the evaluation read the clock
    put(store, clock, 1.0, name="lookout_target_up")
    engine.evaluate(now=now)  # ... and commits before the evaluation reads the store
    clock.advance(1)
    engine.evaluate()
    assert kinds(store) == []  # no NO DATA followed by RESOLVED for a target that just started


def test_an_open_alert_of_a_rule_removed_from_the_config_is_resolved_once(store, clock, make_engine):
    first = make_engine(alerting(rule(), rule("other", metric="n", **{"for": 60.0})))
    put(store, clock, 1.5)
    put(store, clock, 1.5, name="n")
    first.evaluate()  # high fires, other is pending
    assert sorted((s.rule, s.state) for s in states(store)) == [("high", "firing"), ("other", "pending")]
    clock.advance(15)
    second = make_engine(alerting(rule("kept", metric="k")))  # a restart with both rules gone
    second.evaluate()
    second.evaluate(only_metrics={"k"})
    clock.advance(15)
    second.evaluate()
    assert sorted((s.rule, s.state) for s in states(store)) == [("high", "ok"), ("other", "ok")]
    assert kinds(store) == ["firing", "resolved"]  # the pending one never paged: nothing to resolve
    p = payload(events(store)[-1])
    assert p["rule"] == "high" and p["labels"]["alertname"] == "high" and p["labels"]["target"] == "db"
    assert "removed from the configuration" in p["annotations"]["summary"]
    assert [(t.rule, t.from_state, t.to_state, t.event) for t in transitions(store)][-2:] == [
        ("high", "firing", "ok", "resolved"), ("other", "pending", "ok", None)]


def test_a_resolve_event_carries_the_first_crossing_the_firing_time_and_the_summary_it_fired_with(
        store, clock, make_engine):
    engine = make_engine(alerting(rule(**{"for": 30.0}, annotations={"summary": "{labels[target]} at {value}"})))
    start = clock.now
    for v in (1.5, 1.5, 1.5, 1.5, 0.5):
        put(store, clock, v)
        engine.evaluate()
        clock.advance(15)
    fired, resolved = events(store)
    assert (fired.event, payload(fired)["started_at"], payload(fired)["firing_since"]) == ("firing", start, start + 30)
    p = payload(resolved)
    assert (resolved.event, resolved.at, p["started_at"], p["firing_since"]) == ("resolved", start + 60, start,
                                                                                start + 30)
    assert p["labels"]["severity"] == "warning"
    assert p["annotations"]["summary"] == "Resolved: db at 1.5"


def test_no_data_of_a_rule_that_never_fired_takes_its_lowest_severity_everywhere(store, clock, make_engine):
    engine = make_engine(alerting(rule(), rule("only_critical", metric="n", warning=None)))
    put(store, clock, 0.5)
    put(store, clock, 0.5, name="n")
    engine.evaluate()
    clock.advance(120)  # past the 60 s window: no data
    engine.evaluate()
    by_rule = {payload(e)["rule"]: e for e in events(store)}
    assert {r: (e.event, e.severity, payload(e)["labels"]["severity"]) for r, e in by_rule.items()} == {
        "high": ("stale", "warning", "warning"), "only_critical": ("stale", "critical", "critical")}
    assert sorted((s.rule, s.state, s.severity, json.loads(s.labels)["severity"]) for s in states(store)) == [
        ("high", "stale", "warning", "warning"), ("only_critical", "stale", "critical", "critical")]


def test_a_firing_alert_that_goes_silent_keeps_its_level_and_its_start(store, clock, make_engine):
    engine = make_engine(alerting(rule()))
    start = clock.now
    put(store, clock, 2.5)
    engine.evaluate()
    clock.advance(120)
    engine.evaluate()
    fired, stale = events(store)
    assert (stale.event, stale.severity, payload(stale)["labels"]["severity"]) == ("stale", "critical", "critical")
    assert payload(stale)["started_at"] == start


def test_a_summary_of_a_value_that_was_never_defined_says_a_dash_not_nan(store, clock, make_engine):
    r = {"name": "share", "ratio": {"numerator": {"metric": "num", "window": 60.0},
                                    "denominator": {"metric": "den", "window": 60.0}},
         "warning": 0.5, "annotations": {"summary": "share {value:.0%}, mean {value}s"}}
    engine = make_engine(alerting(r))
    put(store, clock, 0.0, name="num")
    put(store, clock, 0.0, name="den")  # 0/0: undefined
    engine.evaluate()
    clock.advance(120)
    engine.evaluate()  # then no data at all
    [st] = states(store)
    assert st.state == "stale"
    texts = json.loads(st.annotations)
    assert texts["rule_summary"] == "share –, mean –s"
    assert "nan" not in st.annotations.lower()
