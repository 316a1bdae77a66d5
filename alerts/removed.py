"""Alerts of rules that are no longer in the configuration: closed, once.

The engine evaluates only configured rules, so the instances of a rule that
was removed (or renamed) would keep their last state for ever: a firing
alert on the overview, repeat notifications every ``repeat_interval``, and
rows the history pruning never touches (it deletes closed alerts only). As
Prometheus and Alertmanager do when a rule disappears, the alert resolves:
an open one (firing, stale, flapping) gets a ``resolved`` event, which
notifies the receivers that heard it fire and closes their threads; a
pending one goes back to ok silently. The row then ages out like any other
closed alert.

Only a full evaluation cycle does this, and only the elected evaluator runs
one in a cluster; during a rolling config change a node still on the old
config may fire the rule again until it is restarted.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select

from alerts.schema import alert_state
from alerts.state_store import Stored, save, state_columns
from alerts.statemachine import OPEN, AlertState, Transition

log = logging.getLogger("lookout.alerts")
REASON = "the rule was removed from the configuration"
TARGET_REASON = "its target was removed from the configuration"


def close(writer: Any, engine: Any, orphans: list[Stored], now: float,
          reason: str = REASON) -> tuple[int, int, int]:
    """Close each orphan with compare-and-set; (transitions, events, conflicts) written.
    ``reason`` is what the resolve says: the rule, or its target, left the configuration."""
    if not orphans:
        return 0, 0, 0
    with engine.connect() as conn:
        rows = {r.id: r for r in conn.execute(
            select(alert_state.c.id, alert_state.c.labels, alert_state.c.annotations, alert_state.c.thresholds)
            .where(alert_state.c.id.in_([o.id for o in orphans])))}
    transitions = events = conflicts = 0
    for prev in orphans:
        row = rows.get(prev.id)
        if row is None:
            continue  # pruned meanwhile
        was = prev.state
        state = AlertState(last_change=now)
        event = "resolved" if was.is_open else None
        t = Transition(now, was.inner, "ok", was.severity, None, was.value, event)
        annotations = _json(row.annotations)
        annotations["summary"] = (f"{annotations['summary']} (resolved: {reason})" if annotations.get("summary")
                                  else f"{prev.rule}: resolved, {reason}")
        values = {**state_columns(state), "annotations": json.dumps(annotations), "last_eval": now,
                  "notified": False, "silenced_by": None, "suppressed_by": None, "muted_reason": None,
                  "acked_by": None, "acked_at": None}
        rows_out = []
        if event:
            labels = _json(row.labels)
            payload = {"rule": prev.rule, "labels": {**labels, "severity": was.severity or ""},
                       "series_labels": prev.series_labels, "annotations": annotations,
                       "thresholds": _json(row.thresholds), "firing_since": was.firing_since,
                       "started_at": was.started_at,  # the resolve says how long the episode lasted
                       "value": was.value, "state": "ok", "message": f"{prev.rule}: {reason}", "muted": False,
                       "muted_reason": None, "suppressed_by": None}
            rows_out.append({"event": event, "severity": None, "previous_severity": was.severity,
                             "value": was.value, "at": now, "payload": json.dumps(payload, default=str),
                             "muted": False, "muted_reason": None, "suppressed_by": None})
        if save(writer, prev, values, [t], rows_out) is None:
            conflicts += 1
            continue
        transitions += 1
        events += len(rows_out)
        log.info("alert %s %s: %s", prev.key, event or "cleared", reason)
    return transitions, events, conflicts


def orphans_of(stored: dict[str, Stored], configured: set[str]) -> list[Stored]:
    """Instances of rules not configured that are not already ok."""
    return [s for s in stored.values() if s.rule not in configured and s.id is not None
            and (s.state.state in OPEN or s.state.inner != "ok")]


def _json(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
