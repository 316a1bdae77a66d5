"""Invariants of the state machine over arbitrary value sequences (hypothesis)."""
from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.config import Flapping, Rule
from alerts.evaluate import evaluate, level
from alerts.statemachine import AlertState

STEP = 15.0
values = st.lists(st.one_of(st.floats(0, 100), st.none(), st.just(float("nan"))), min_size=1, max_size=60)
rules = st.builds(
    lambda for_, keep, clear, no_data: Rule.model_validate({
        "name": "r", "expr": {"metric": "m"}, "warning": 50.0, "critical": 80.0, "clear": clear,
        "for": for_, "keep_firing_for": keep, "no_data": no_data}),
    st.sampled_from([0.0, 15.0, 45.0]), st.sampled_from([0.0, 30.0]), st.floats(30, 50),
    st.sampled_from(["stale", "ok", "alerting", "keep_state"]))
flapping = st.sampled_from([Flapping(transitions=3, window=300.0, settle=60.0), Flapping()])


def walk(rule: Rule, seq: list, fl: Flapping):
    state = AlertState()
    for i, v in enumerate(seq):
        out = evaluate(rule, v, state, i * STEP, fl)
        yield i * STEP, v, state, out
        state = out.state


@settings(max_examples=300, deadline=None)
@given(rules, values, flapping)
def test_it_never_fires_without_having_been_pending_for_for(rule, seq, fl):
    breaching_since = None
    for now, v, prev, out in walk(rule, seq, fl):
        if v is None and rule.no_data == "alerting":
            cond = True
        elif v is None or math.isnan(v):
            cond = None  # neither breaching nor clear: no statement possible
        else:
            cond = level(rule, v, prev.severity if prev.inner == "firing" else None) is not None
        if cond is False:
            breaching_since = None
        elif cond is True and breaching_since is None:
            breaching_since = now
        for t in out.transitions:
            if t.to_state == "firing" and t.from_state in ("ok", "pending"):
                assert breaching_since is not None and now - breaching_since >= rule.for_


@settings(max_examples=300, deadline=None)
@given(rules, values, flapping)
def test_there_are_never_two_open_notifications_without_a_close_between(rule, seq, fl):
    is_open = False
    for _, _, prev, out in walk(rule, seq, fl):
        for e in out.events:
            if e.kind in ("resolved", "flapping_ended"):
                assert is_open, f"{e.kind} of an alert that was not open"
                is_open = False
            elif e.kind in ("escalated", "deescalated"):
                assert is_open
            else:  # firing, stale, flapping open it, or update an open one from stale/flapping
                assert not is_open or (e.kind in ("stale", "flapping") or prev.inner == "stale"), \
                    f"{e.kind} while already open after {prev.state}"
                is_open = True
        assert is_open == out.state.is_open


@settings(max_examples=300, deadline=None)
@given(rules, values, flapping)
def test_a_firing_alert_resolves_only_once_the_value_is_past_clear(rule, seq, fl):
    for _, v, _, out in walk(rule, seq, fl):
        for t in out.transitions:
            if t.from_state == "firing" and t.to_state == "ok":
                assert (v is None and rule.no_data == "ok") or v <= rule.clear.warning


@settings(max_examples=300, deadline=None)
@given(rules, values, flapping)
def test_every_notifiable_event_says_when_its_episode_began_and_never_after_itself(rule, seq, fl):
    for now, _, _, out in walk(rule, seq, fl):
        for e in out.events:
            assert e.started_at is not None and e.started_at <= e.at <= now, (e.kind, e.started_at, e.at)
