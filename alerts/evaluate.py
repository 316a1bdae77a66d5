"""Evaluation of one alert instance, pure: (rule, value, previous state, now) -> outcome.

The value comes from :func:`alerts.rules.reduce` over the instance's samples:
None is "no data" (handled by the rule's ``no_data``), NaN is "undefined
this time" (a first counter point, a ratio over zero traffic) and keeps the
state as it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from alerts.config import Flapping, Rule
from alerts.statemachine import (
    RANK,
    STALE,
    AlertState,
    Event,
    Transition,
    advance,
    overlay,
)

_OPS = {">": lambda v, t: v > t, ">=": lambda v, t: v >= t,
        "<": lambda v, t: v < t, "<=": lambda v, t: v <= t}


@dataclass(frozen=True)
class Outcome:
    state: AlertState
    transitions: list[Transition] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.transitions or self.events)


def level(rule: Rule, value: float, held: str | None) -> str | None:
    """The level ``value`` is at, given the level currently firing (hysteresis).

    A level is reached by passing its threshold, and once firing it is kept
    until the value is back past its ``clear`` level (default: the threshold).
    """
    past = _OPS[rule.op]
    for sev in ("critical", "warning"):
        threshold = getattr(rule, sev)
        if threshold is None:
            continue
        if past(value, threshold):
            return sev
        clear = getattr(rule.clear, sev)
        if RANK[held] >= RANK[sev] and clear is not None and past(value, clear):
            return sev
    return None


def _held(prev: AlertState) -> str | None:
    return prev.severity if prev.inner == "firing" else None


def condition(rule: Rule, value: float | None, prev: AlertState) -> str | None:
    if value is None:
        if rule.no_data == "alerting":
            return "critical" if rule.critical is not None else "warning"
        if rule.no_data == "ok":
            return None
        return STALE
    return level(rule, value, _held(prev))


def evaluate(rule: Rule, value: float | None, prev: AlertState, now: float,
             flapping: Flapping | None = None) -> Outcome:
    if value is not None and math.isnan(value):
        return Outcome(prev)
    if value is None and rule.no_data == "keep_state":
        return Outcome(prev)
    cond = condition(rule, value, prev)
    shown = prev.value if value is None else value
    inner, transitions = advance(prev, cond, now, rule.for_, rule.keep_firing_for, shown)
    inner = replace(inner, value=shown)
    fl = flapping or Flapping()
    state, events = overlay(prev, inner, transitions, now, fl.transitions, fl.window, fl.settle)
    if state.state != prev.state and not transitions:
        # flapping ended without a change beneath: still a visible state change
        transitions = [Transition(now, prev.state, state.state, prev.severity, state.severity, shown,
                                  events[0].kind if events else None)]
    elif state.state == "flapping" and prev.state != "flapping":
        transitions = transitions + [Transition(now, prev.inner, "flapping", prev.severity, state.severity,
                                                shown, "flapping")]
    return Outcome(state, transitions, events)
