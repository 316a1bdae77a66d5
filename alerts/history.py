"""Reads of what the engine recorded, for displays: state changes in a time
window and the annotations rendered for open alerts.

The engine writes ``alert_transitions`` (one row per state change, see
``state_store.save``) and renders each rule's annotations onto its state
row; the dashboards read both through these functions, not the tables.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection

from alerts.schema import alert_state, alert_transitions


@dataclass(frozen=True)
class StateChange:
    at: float
    rule: str
    alert_key: str
    from_state: str
    to_state: str
    to_severity: str | None


def transitions_between(conn: Connection, start: float, end: float, limit: int = 500) -> list[StateChange]:
    """State changes with ``start <= at <= end``, oldest first, at most ``limit`` of them."""
    t = alert_transitions.c
    q = (select(t.at, t.rule, t.alert_key, t.from_state, t.to_state, t.to_severity)
         .where(t.at >= start, t.at <= end).order_by(t.at, t.id).limit(limit))
    return [StateChange(float(at), rule, key, frm, to, sev) for at, rule, key, frm, to, sev in conn.execute(q)]


def open_annotations(conn: Connection) -> dict[int, dict[str, str]]:
    """Rendered annotations (summary, description, runbook_url...) of every alert not ok, by alert id."""
    s = alert_state.c
    rows = conn.execute(select(s.id, s.annotations).where(s.state != "ok"))
    return {int(i): json.loads(text or "{}") for i, text in rows}
