"""Durable alert state: load every instance, save one with compare-and-set.

A save writes the state row, its transitions and its events in one
transaction. The row is updated only if its ``version`` is still the one
read (a new row only if no row has its key): when another evaluator got
there first, nothing of this save is written and ``save`` returns False.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from alerts.schema import alert_events, alert_state, alert_transitions
from alerts.statemachine import AlertState, Transition
from store.engine import Writer, insert_for
from store.types import canonical_labels


def alert_key(rule: str, series_labels: dict[str, str]) -> str:
    return f"{rule}{canonical_labels(series_labels)}"


@dataclass
class Stored:
    key: str
    rule: str
    series_labels: dict[str, str]
    state: AlertState = field(default_factory=AlertState)
    id: int | None = None
    version: int = 0
    notified: bool = False
    silenced_by: int | None = None
    suppressed_by: str | None = None
    muted_reason: str | None = None
    acked_by: str | None = None
    acked_at: float | None = None


class CasLost(Exception):
    """Another evaluator changed the row since it was read."""


def _state(r: Any) -> AlertState:
    return AlertState(state=r.state, inner=r.inner_state, severity=r.severity, value=r.value,
                      pending_since=r.pending_since, firing_since=r.firing_since, clear_since=r.clear_since,
                      last_change=r.last_change, flapping_since=r.flapping_since,
                      flaps=tuple(tuple(f) for f in json.loads(r.flaps or "[]")))


def stored_from_row(r: Any) -> Stored:
    return Stored(key=r.alert_key, rule=r.rule, series_labels=json.loads(r.series_labels), state=_state(r),
                  id=r.id, version=r.version, notified=bool(r.notified), silenced_by=r.silenced_by,
                  suppressed_by=r.suppressed_by, muted_reason=r.muted_reason, acked_by=r.acked_by,
                  acked_at=r.acked_at)


def load_all(conn: Connection) -> dict[str, Stored]:
    return {r.alert_key: stored_from_row(r) for r in conn.execute(select(alert_state))}


def load_one(conn: Connection, alert_id: int) -> Stored | None:
    r = conn.execute(select(alert_state).where(alert_state.c.id == alert_id)).first()
    return stored_from_row(r) if r is not None else None


def state_columns(s: AlertState) -> dict[str, Any]:
    return {"state": s.state, "inner_state": s.inner, "severity": s.severity, "value": s.value,
            "pending_since": s.pending_since, "firing_since": s.firing_since, "clear_since": s.clear_since,
            "last_change": s.last_change, "flapping_since": s.flapping_since,
            "flaps": json.dumps([list(f) for f in s.flaps])}


def cas_update(conn: Connection, alert_id: int, version: int, values: dict[str, Any]) -> None:
    res = conn.execute(update(alert_state).where(alert_state.c.id == alert_id, alert_state.c.version == version)
                       .values(**values, version=version + 1))
    if res.rowcount != 1:
        raise CasLost(alert_id)


def save(writer: Writer, prev: Stored, values: dict[str, Any], transitions: list[Transition],
         events: list[dict[str, Any]]) -> int | None:
    """Write state + history + events atomically; the alert id, or None if another evaluator won."""
    try:
        with writer.begin() as conn:
            if prev.id is None:
                stmt = insert_for(conn, alert_state).values({
                    **values, "alert_key": prev.key, "rule": prev.rule, "version": 0,
                    "series_labels": json.dumps(prev.series_labels)})
                got = conn.execute(stmt.on_conflict_do_nothing(index_elements=[alert_state.c.alert_key])
                                   .returning(alert_state.c.id)).first()
                if got is None:
                    raise CasLost(prev.key)
                alert_id = int(got[0])
            else:
                alert_id = prev.id
                cas_update(conn, alert_id, prev.version, values)
            if transitions:
                conn.execute(alert_transitions.insert(), [
                    {"alert_id": alert_id, "alert_key": prev.key, "rule": prev.rule, "at": t.at,
                     "from_state": t.from_state, "to_state": t.to_state, "from_severity": t.from_severity,
                     "to_severity": t.to_severity, "value": t.value, "event": t.event} for t in transitions])
            if events:
                conn.execute(alert_events.insert(), [{**e, "alert_id": alert_id, "alert_key": prev.key}
                                                     for e in events])
            return alert_id
    except CasLost:
        return None
