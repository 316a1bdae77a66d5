"""Every read of the alert tables made outside ``alerts/``: one read API.

The dashboards and the JSON API read alerts, their history and silences
through these functions and never touch the tables in :mod:`alerts.schema`;
writes (acks, silences) go through :class:`alerts.engine.AlertEngine`. Each
function takes the store's SQLAlchemy engine and opens its own connection::

    for a in queries.open_alerts(store.engine):
        print(a.rule, a.state, a.annotations.get("summary", ""))
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine, Row

from alerts import silences as sil
from alerts.schema import alert_events, alert_state, alert_transitions, silences
from alerts.silences import Silence
from alerts.statemachine import OPEN, episode_start
from alerts.templates import condition_text

# What ``alert_rows(state=...)`` filters on: a state of the machine, "open" for any open one,
# "not_ok" for every alert that is not ok (pending too), "all" for every alert.
STATE_FILTERS = ("ok", "pending", "firing", "stale", "flapping", "open", "not_ok", "all")
_JSON_COLS = ("labels", "series_labels", "annotations", "thresholds", "flaps")


@dataclass(frozen=True)
class OpenAlert:
    """An alert instance that is not ok (pending, firing, stale or flapping)."""

    id: int
    rule: str
    series_labels: dict[str, str]
    state: str
    severity: str | None
    value: float | None
    pending_since: float | None
    firing_since: float | None
    last_change: float | None
    silenced_by: int | None
    suppressed_by: str | None
    muted_reason: str | None
    acked_by: str | None
    acked_at: float | None
    # Rendered at the last evaluation: summary, description, runbook_url...
    annotations: dict[str, str] = field(default_factory=dict)
    # When the episode began: the first crossing (start of pending), not the moment it fired.
    started_at: float | None = None


@dataclass(frozen=True)
class StateChange:
    at: float
    rule: str
    alert_key: str
    from_state: str
    to_state: str
    to_severity: str | None


@dataclass(frozen=True)
class AlertDetail:
    """One alert as JSON objects: its state row, newest transitions and events first."""

    alert: dict[str, Any]
    transitions: list[dict[str, Any]]
    events: list[dict[str, Any]]


def open_alerts(db: Engine) -> list[OpenAlert]:
    """Every alert instance that is not ok, in no particular order."""
    s = alert_state.c
    with db.connect() as conn:
        rows = conn.execute(select(alert_state).where(s.state != "ok")).all()
    return [OpenAlert(id=int(r.id), rule=r.rule, series_labels=json.loads(r.series_labels), state=r.state,
                      severity=r.severity, value=r.value, pending_since=r.pending_since,
                      firing_since=r.firing_since, last_change=r.last_change, silenced_by=r.silenced_by,
                      suppressed_by=r.suppressed_by, muted_reason=r.muted_reason, acked_by=r.acked_by,
                      acked_at=r.acked_at, annotations=json.loads(r.annotations or "{}"),
                      started_at=episode_start(r.inner_state, r.pending_since, r.firing_since, r.last_change))
            for r in rows]


def alert_rows(db: Engine, state: str | None = None) -> list[dict[str, Any]]:
    """State rows as JSON objects, by rule and key; ``state`` one of STATE_FILTERS, None for all.

    Each row as :func:`_state_json` shapes it: an ok alert's summary is its rule's condition.
    """
    if state is not None and state not in STATE_FILTERS:
        raise ValueError(f"state must be one of {', '.join(STATE_FILTERS)}")
    q = select(alert_state).order_by(alert_state.c.rule, alert_state.c.alert_key)
    if state == "open":
        q = q.where(alert_state.c.state.in_(OPEN))
    elif state == "not_ok":
        q = q.where(alert_state.c.state != "ok")
    elif state and state != "all":
        q = q.where(alert_state.c.state == state)
    with db.connect() as conn:
        return [_state_json(r) for r in conn.execute(q)]


def alert_detail(db: Engine, alert_id: int, limit: int = 200) -> AlertDetail | None:
    """One alert with at most ``limit`` of its transitions and of its events; None if there is none."""
    t, e = alert_transitions.c, alert_events.c
    with db.connect() as conn:
        row = conn.execute(select(alert_state).where(alert_state.c.id == alert_id)).first()
        if row is None:
            return None
        trans = conn.execute(select(alert_transitions).where(t.alert_id == alert_id)
                             .order_by(t.id.desc()).limit(limit)).all()
        events = conn.execute(select(alert_events).where(e.alert_id == alert_id)
                              .order_by(e.id.desc()).limit(limit)).all()
    return AlertDetail(alert=_state_json(row), transitions=[dict(x._mapping) for x in trans],
                       events=[{**dict(x._mapping), "payload": json.loads(x.payload)} for x in events])


def transitions_between(db: Engine, start: float, end: float, limit: int = 500) -> list[StateChange]:
    """State changes with ``start <= at <= end``, oldest first: the newest ``limit`` of them.

    Past the limit the oldest are left out: what happened last matters most on a chart.
    """
    t = alert_transitions.c
    q = (select(t.at, t.rule, t.alert_key, t.from_state, t.to_state, t.to_severity)
         .where(t.at >= start, t.at <= end).order_by(t.at.desc(), t.id.desc()).limit(limit))
    with db.connect() as conn:
        rows = [StateChange(float(at), rule, key, frm, to, sev) for at, rule, key, frm, to, sev in conn.execute(q)]
    return rows[::-1]


def list_silences(db: Engine, include_expired: bool, now: float) -> list[Silence]:
    """Active and future silences by id; with ``include_expired``, ended ones too."""
    with db.connect() as conn:
        return sil.list_silences(conn, include_expired, now)


def get_silence(db: Engine, silence_id: int) -> Silence | None:
    with db.connect() as conn:
        row = conn.execute(select(silences).where(silences.c.id == silence_id)).first()
    # alerts.silences keeps its row reader private; this read belongs to the same package.
    return sil.silence_from_row(row) if row is not None else None


def _state_json(row: Row[Any]) -> dict[str, Any]:
    """A state row as JSON, with ``started_at`` (the episode's start) and texts true to the state.

    Annotations are templates written for a firing alert ("Target shop-api is down"), rendered
    at the last save. An ok alert shows none of them as if they held: its ``summary`` is the
    rule's condition ("OK: warning above 5.0 %, critical above 10.0 %"), its ``description``
    is left out, its ``runbook_url`` stays.
    """
    d = dict(row._mapping)
    for c in _JSON_COLS:
        if c in d and isinstance(d[c], str):
            d[c] = json.loads(d[c])
    d["started_at"] = episode_start(d.get("inner_state") or d["state"], d.get("pending_since"),
                                    d.get("firing_since"), d.get("last_change"))
    if d["state"] == "ok" and isinstance(d.get("annotations"), dict):
        kept = {k: v for k, v in d["annotations"].items() if k not in ("summary", "description", "rule_summary")}
        d["annotations"] = {**kept, "summary": f"OK: {condition_text(d.get('thresholds') or {})}"}
    return d
