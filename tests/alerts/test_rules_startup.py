"""No page for nothing (issue 15): too few samples at start, counter resets, label sets that go away.

Pure: ``reduce`` and ``rule_values`` over an in-memory source with a fake clock; no store.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from alerts.config import AlertingConfig, Expr, Rule
from alerts.evaluate import evaluate
from alerts.rules import reduce, rule_values
from alerts.statemachine import AlertState
from store.types import canonical_labels
from tests.support import T0

INTERVAL = 15.0
INTERVALS = {"db": INTERVAL, "cache": INTERVAL, "shop": INTERVAL, "pool": INTERVAL}


@dataclass
class _Series:
    labels: dict[str, str]


@dataclass
class _Got:
    series: _Series
    points: list[tuple[float, float]]


@dataclass
class Source:
    """What ``rule_values`` reads: like the store, every series of the name, with its points in range."""

    data: dict[tuple[str, str], tuple[dict[str, str], list[tuple[float, float]]]] = field(default_factory=dict)

    def put(self, t: float, name: str, value: float, **labels: str) -> None:
        key = (name, canonical_labels(labels))
        self.data.setdefault(key, (labels, []))[1].append((t, value))

    def raw(self, name: str, matchers: Mapping[str, str] | None, start: float, end: float) -> list[Any]:
        return [_Got(_Series(dict(labels)), [(t, v) for t, v in pts if start <= t <= end])
                for (n, _), (labels, pts) in self.data.items()
                if n == name and all(labels.get(k) == v for k, v in (matchers or {}).items())]


def one(values: dict) -> float | None:
    [(_, v)] = values.values()
    return v


def ok_state() -> AlertState:
    return AlertState()


# -- enough samples ---------------------------------------------------------------------------

def test_an_average_is_undefined_until_its_samples_reach_back_half_the_window():
    pts = [(T0, 9.0)]
    assert math.isnan(reduce(pts, "avg", 60.0, T0, min_coverage=0.5))
    pts.append((T0 + 15, 9.0))
    assert math.isnan(reduce(pts, "avg", 60.0, T0 + 15, min_coverage=0.5))  # 15 s of a 60 s window
    pts.append((T0 + 30, 9.0))
    assert reduce(pts, "avg", 60.0, T0 + 30, min_coverage=0.5) == 9.0  # 30 s: half of it


def test_a_late_poll_does_not_make_a_covered_window_undefined():
    # 30 s window, 15 s polls: the poll due at 30 is late, one sample is left in the window,
    # but the series reaches back 16 s, more than half of it.
    pts = [(T0, 1.0), (T0 + 15, 1.0)]
    assert reduce(pts, "max", 30.0, T0 + 31, min_coverage=0.5) == 1.0


def test_last_needs_one_sample_whatever_the_coverage():
    assert reduce([(T0, 0.0)], "last", 60.0, T0, min_coverage=1.0, min_samples=5) == 0.0


def test_min_samples_asks_for_that_many_samples_in_the_window():
    pts = [(T0, 1.0), (T0 + 15, 2.0)]
    assert math.isnan(reduce(pts, "max", 60.0, T0 + 40, min_samples=3))
    assert reduce(pts + [(T0 + 30, 3.0)], "max", 60.0, T0 + 40, min_samples=3) == 3.0


def test_the_default_coverage_is_half_the_window_and_documented():
    e = Expr(metric="m", agg="avg", window=60.0)
    assert (e.min_coverage, e.min_samples, e.absent) == (0.5, 1, "no_data")
    assert "share" in (Expr.model_fields["min_coverage"].description or "")


def test_a_waiting_client_at_the_first_look_after_a_start_does_not_make_the_rule_pending():
    # The demo's pool_waiting_clients: min over 45 s > 0. At start the pool opens its
    # connections and one client waits at the first look; 15 s later nobody does.
    rule = Rule.model_validate({"name": "pool_waiting_clients", "expr": {
        "metric": "lookout_pool_waiting_clients", "agg": "min", "window": "45s"}, "op": ">", "warning": 0,
        "for": "30s"})
    src, state = Source(), ok_state()
    for i, waiting in enumerate((1.0, 0.0, 0.0, 0.0)):
        now = T0 + 15 * i
        src.put(now, "lookout_pool_waiting_clients", waiting, target="pool", pool="shop-api")
        out = evaluate(rule, one(rule_values(rule, src, now, INTERVALS)), state, now)
        state = out.state
        assert state.state == "ok" and out.transitions == [], (i, state)


def test_clients_waiting_at_every_look_once_the_window_is_covered_do_go_pending():
    rule = Rule.model_validate({"name": "w", "expr": {"metric": "waiting", "agg": "min", "window": "45s"},
                                "op": ">", "warning": 0, "for": "30s"})
    src, state, seen = Source(), ok_state(), []
    for i in range(4):
        now = T0 + 15 * i
        src.put(now, "waiting", 2.0, target="pool")
        state = evaluate(rule, one(rule_values(rule, src, now, INTERVALS)), state, now).state
        seen.append(state.state)
    assert seen == ["ok", "ok", "pending", "pending"]  # from 30 s of samples on (half of 45 s)


# -- counter resets ---------------------------------------------------------------------------

CACHE = {"name": "cache_hit_ratio", "op": "<", "warning": 0.9, "critical": 0.8, "for": "30s", "ratio": {
    "numerator": {"metric": "hits", "agg": "increase", "window": "1m", "by": ["target"]},
    "denominator": [{"metric": "hits", "agg": "increase", "window": "1m", "by": ["target"]},
                    {"metric": "misses", "agg": "increase", "window": "1m", "by": ["target"]}]}}


def test_a_counter_reset_at_a_restart_is_not_read_as_a_zero_hit_ratio():
    # Before the restart: a warm cache. Redis restarts with Lookout: counters start over and the
    # first look after it saw only cold misses. Prometheus-style increase would read 0 hits of 40.
    rule = Rule.model_validate(CACHE)
    src = Source()
    for t, hits, misses in ((T0, 100_000, 2_000), (T0 + 15, 100_230, 2_003)):
        src.put(t, "hits", hits, target="cache")
        src.put(t, "misses", misses, target="cache")
    restarted = T0 + 40  # one second after the restarted Lookout's first collection
    src.put(restarted - 1, "hits", 0, target="cache")
    src.put(restarted - 1, "misses", 40, target="cache")
    value = one(rule_values(rule, src, restarted, INTERVALS))
    assert value is not None and math.isnan(value)
    assert evaluate(rule, value, ok_state(), restarted).state.state == "ok"


def test_after_a_reset_the_ratio_waits_until_the_samples_since_it_cover_half_the_window():
    rule = Rule.model_validate(CACHE)
    src, got = Source(), []
    src.put(T0, "hits", 100_000, target="cache")
    src.put(T0, "misses", 2_000, target="cache")
    for i, (hits, misses) in enumerate(((0, 40), (200, 50), (430, 55), (660, 58))):
        now = T0 + 20 + 15 * i
        src.put(now, "hits", hits, target="cache")
        src.put(now, "misses", misses, target="cache")
        got.append(one(rule_values(rule, src, now, INTERVALS)))
    assert [v is not None and math.isnan(v) for v in got] == [True, True, False, False]
    assert got[2] == pytest.approx(430 / (430 + 15))  # since the first sample after the reset


def test_a_reset_inside_a_covered_window_keeps_only_the_increase_since_it():
    pts = [(T0, 50.0), (T0 + 15, 60.0), (T0 + 30, 5.0), (T0 + 45, 9.0), (T0 + 60, 12.0)]
    assert reduce(pts, "increase", 90.0, T0 + 60) == 7.0
    assert reduce(pts, "rate", 90.0, T0 + 60) == pytest.approx(7.0 / 30)
    assert math.isnan(reduce(pts, "increase", 90.0, T0 + 60, min_coverage=0.5))  # 30 s since the reset


def test_a_gauge_delta_is_not_a_counter_and_a_drop_stays_a_drop():
    assert reduce([(T0, 10.0), (T0 + 30, 4.0)], "delta", 60.0, T0 + 30) == -6.0


# -- label sets that go away --------------------------------------------------------------------

CONNS = {"name": "pg_connections_near_max", "op": ">", "warning": 0.8, "ratio": {
    "numerator": {"metric": "pg_stat_activity_count", "agg": "last", "window": "1m", "by": ["target"]},
    "denominator": {"metric": "pg_settings_max_connections", "agg": "last", "window": "10m", "by": ["target"]}}}


def sessions_that_stop_reporting_active() -> Source:
    """Idle and active sessions on two databases; from T0+60 nothing reports state=active on postgres."""
    src = Source()
    for i in range(12):
        t = T0 + 15 * i
        src.put(t, "pg_settings_max_connections", 100, target="db")
        src.put(t, "pg_stat_activity_count", 8, target="db", datname="shop", state="idle")
        src.put(t, "pg_stat_activity_count", 2, target="db", datname="postgres", state="idle")
        if i < 4:
            src.put(t, "pg_stat_activity_count", 1, target="db", datname="postgres", state="active")
    return src


def test_by_default_a_series_that_stops_makes_its_by_group_no_data():
    rule = Rule.model_validate(CONNS)
    assert one(rule_values(rule, sessions_that_stop_reporting_active(), T0 + 165, INTERVALS)) is None


def test_with_absent_zero_a_series_that_stops_counts_as_zero_while_its_siblings_report():
    cfg = {**CONNS, "ratio": {**CONNS["ratio"], "numerator": {**CONNS["ratio"]["numerator"], "absent": "zero"}}}
    rule = Rule.model_validate(cfg)
    src = sessions_that_stop_reporting_active()
    assert one(rule_values(rule, src, T0 + 45, INTERVALS)) == pytest.approx(11 / 100)
    assert one(rule_values(rule, src, T0 + 165, INTERVALS)) == pytest.approx(10 / 100)


def test_with_absent_zero_a_group_whose_series_all_stopped_is_still_no_data():
    cfg = {**CONNS, "ratio": {**CONNS["ratio"], "numerator": {**CONNS["ratio"]["numerator"], "absent": "zero"}}}
    rule = Rule.model_validate(cfg)
    src = sessions_that_stop_reporting_active()
    assert one(rule_values(rule, src, T0 + 15 * 11 + 300, INTERVALS)) is None  # the server stopped


REPLICA_LAG = {"name": "pg_replication_lag", "op": ">", "warning": 30, "no_data": "ok", "expr": {
    "metric": "pg_replication_lag_seconds", "agg": "max", "window": "2m", "only_if": "pg_replication_is_replica"}}


def servers(src: Source, t: float) -> None:
    src.put(t, "pg_replication_lag_seconds", 0.0, target="primary")
    src.put(t, "pg_replication_is_replica", 0.0, target="primary")
    src.put(t, "pg_replication_lag_seconds", 45.0, target="replica")
    src.put(t, "pg_replication_is_replica", 1.0, target="replica")


def test_only_if_gives_a_server_that_is_not_a_replica_no_replica_lag_instance_at_all():
    src = Source()
    for i in range(5):
        servers(src, T0 + 15 * i)
    got = rule_values(Rule.model_validate(REPLICA_LAG), src, T0 + 60, INTERVALS)
    assert [(labels, v) for labels, v in got.values()] == [({"target": "replica"}, 45.0)]


def test_a_replica_promoted_to_primary_leaves_the_gate():
    src = Source()
    for i in range(5):
        servers(src, T0 + 15 * i)
    src.put(T0 + 75, "pg_replication_lag_seconds", 0.0, target="replica")
    src.put(T0 + 75, "pg_replication_is_replica", 0.0, target="replica")  # promoted
    assert rule_values(Rule.model_validate(REPLICA_LAG), src, T0 + 75, INTERVALS) == {}


def test_absent_zero_needs_by():
    with pytest.raises(ValueError, match="absent: zero"):
        Expr.model_validate({"metric": "m", "absent": "zero"})


# -- the shipped config ------------------------------------------------------------------------

def shipped_rules() -> dict[str, Rule]:
    from pathlib import Path

    import yaml

    raw = yaml.safe_load((Path(__file__).resolve().parents[2] / "config.yaml").read_text())
    return {r.name: r for r in AlertingConfig.model_validate(raw["alerting"]).rules}


def test_the_shipped_rules_decide_absent_label_sets_per_metric():
    rules = shipped_rules()
    assert rules["pg_connections_near_max"].exprs()[0].absent == "zero"
    assert rules["http_p95_latency"].no_data == "ok"
    assert rules["pg_replication_lag"].exprs()[0].only_if == "pg_replication_is_replica"
    assert rules["pg_replication_lag"].no_data == "ok"
    # Payments are a promise now (its start-up case: tests/promises/test_evaluate.py).
    assert "payment_failure_ratio" not in rules


