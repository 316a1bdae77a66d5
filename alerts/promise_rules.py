"""Promises as alerts: each promise's burn-rate verdict drives one alert instance.

The promise is evaluated once per full cycle (promises/evaluate.py). Its
alert is an ordinary alert instance of the synthetic rule ``promise_<id>``:
the state machine sees the burn score (1 warning, 2 critical; below 1 fine)
and keeps the transitions, silences, acks and notifications every alert has,
while the value saved and shown is the promise's SLI value in its unit. The
Status is saved beside the alert state in the same cycle, so a card can
never say "kept" while its alert fires.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from alerts.config import Rule
from alerts.schema import alert_state, promise_status
from alerts.statemachine import OPEN
from promises.config import Promise
from promises.evaluate import Status
from store.engine import insert_for

PROMISE_LABEL = "promise"


def _literal(text: str) -> str:
    """Text safe to pass through the annotation templates unchanged."""
    return text.replace("{", "{{").replace("}", "}}")


def rule_for(p: Promise, status: Status) -> Rule:
    """The alert rule of a promise, carrying this evaluation's summary."""
    annotations = {"summary": _literal(status.summary())}
    if p.description:
        annotations["description"] = _literal(p.description)
    metric = sorted(p.metrics())[0]
    return Rule.model_validate({
        "name": p.alert_name, "expr": {"metric": metric, "agg": "last"},
        # The score: 1 when a warning (ticket) burn alert fires, 2 when a page fires.
        "op": ">=", "warning": 1.0, "critical": 2.0, "for": 0.0,
        # No data at all (nothing collected yet) is no verdict, not an incident.
        "no_data": "ok", "labels": {PROMISE_LABEL: p.id}, "annotations": annotations, "unit": p.unit,
    })


def value_for(status: Status) -> float | None:
    """The state machine's input: the score, or None while nothing can be judged."""
    if all(c.long_burn is None or c.short_burn is None for c in status.checks):
        return None
    return status.score


def save_status(conn: Connection, status: Status, alert_key: str) -> None:
    stmt = insert_for(conn, promise_status).values(promise_id=status.id, alert_key=alert_key, at=status.at,
                                                   status=json.dumps(status.as_json()))
    conn.execute(stmt.on_conflict_do_update(
        index_elements=[promise_status.c.promise_id],
        set_={"alert_key": stmt.excluded.alert_key, "at": stmt.excluded.at, "status": stmt.excluded.status}))


@dataclass(frozen=True)
class PromiseView:
    """A promise's latest Status with its alert's state: what a card or /api/promises shows."""

    status: Status
    alert_id: int | None
    state: str                 # the alert's: ok, firing, stale, flapping
    severity: str | None
    since: float | None        # when the alert started (first crossing), while it is open

    @property
    def verdict(self) -> str:
        """kept | burning | breached | budget spent | no data: the alert decides first, then compliance."""
        if self.state in ("firing", "flapping"):
            return "breached" if self.severity == "critical" else "burning"
        if self.status.kept is None:
            return "no data"
        return "kept" if self.status.kept else "budget spent"

    def as_json(self) -> dict[str, Any]:
        return {**self.status.as_json(), "alert_id": self.alert_id, "state": self.state,
                "severity": self.severity, "since": self.since, "verdict": self.verdict,
                "summary": self.status.summary()}


def forget_others(conn: Connection, keep: Sequence[str]) -> None:
    """Drop the saved Status of promises no longer configured (their alerts close as removed rules)."""
    conn.execute(promise_status.delete().where(promise_status.c.promise_id.not_in(list(keep))))


def promise_views(db: Engine, ids: Sequence[str] | None = None) -> list[PromiseView]:
    """The latest evaluation of each promise (in ``ids`` order when given) joined with its alert."""
    s = alert_state.c
    with db.connect() as conn:
        joined = promise_status.outerjoin(alert_state, s.alert_key == promise_status.c.alert_key)
        rows = conn.execute(select(promise_status, s.id, s.state, s.severity, s.pending_since, s.firing_since)
                            .select_from(joined)).all()
    views = {r.promise_id: PromiseView(Status.from_json(json.loads(r.status)), r.id, r.state or "ok", r.severity,
                                       (r.pending_since or r.firing_since) if r.state in OPEN else None)
             for r in rows}
    if ids is None:
        return list(views.values())
    return [views[i] for i in ids if i in views]


