"""Acknowledging an open alert: who and when, until its severity changes or it resolves.

An ack stops repeats (NOTIFY reads ``acked_at`` from alert_state); the engine
clears it on escalation, de-escalation and resolve. The change is a
compare-and-set like every other write of alert_state, retried when an
evaluation updated the row in between.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from alerts.schema import acks
from alerts.state_store import CasLost, cas_update, load_one
from alerts.statemachine import OPEN
from store.engine import Writer


class AckError(HTTPException):
    """An HTTPException, so any Flask route calling ``ack`` answers with its status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(description=message)
        self.code = status
        self.status = status


def ack(engine: Engine, writer: Writer, alert_id: int, who: str, comment: str | None,
        now: float, attempts: int = 5) -> dict[str, Any]:
    who = (who or "").strip()
    if not who:
        raise AckError("who is required", 400)
    for _ in range(attempts):
        with engine.connect() as conn:
            cur = load_one(conn, alert_id)
        if cur is None:
            raise AckError(f"no alert with id {alert_id}", 404)
        if cur.state.state not in OPEN:
            raise AckError(f"alert {alert_id} is {cur.state.state}, not firing", 409)
        try:
            with writer.begin() as conn:
                cas_update(conn, alert_id, cur.version, {"acked_by": who, "acked_at": now})
                conn.execute(acks.insert().values(alert_id=alert_id, alert_key=cur.key, who=who, at=now,
                                                  severity=cur.state.severity, comment=comment))
        except CasLost:
            continue
        return {"id": alert_id, "alert_key": cur.key, "acked_by": who, "acked_at": now,
                "severity": cur.state.severity, "state": cur.state.state}
    raise AckError(f"alert {alert_id} kept changing; try again", 409)
