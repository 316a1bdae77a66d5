"""JSON API of alerting: alerts, their history, acks and silences.

    GET    /api/alerts?state=firing        alert instances (state rows)
    GET    /api/alerts/<id>                one alert with its transitions and events
    POST   /api/alerts/<id>/ack            {"who": "...", "comment": "..."}
    GET    /api/alerts/report              the last evaluation's report (this process)
    GET    /api/silences?all=1             active and future silences (all=1: expired too)
    POST   /api/silences                   {"matchers": {...} | ["l=~re"], "ends_at"|"duration", "author", "comment"}
    DELETE /api/silences/<id>              expire now
"""
from __future__ import annotations

import json
import math
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from pydantic import ValidationError
from sqlalchemy import select

from alerts import silences as sil
from alerts.acks import AckError
from alerts.schema import alert_events, alert_state, alert_transitions
from alerts.statemachine import OPEN
from core.durations import parse_duration

STATES = ("ok", "pending", "firing", "stale", "flapping", "open")
_JSON_COLS = ("labels", "series_labels", "annotations", "thresholds", "flaps")


def _alert(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    for c in _JSON_COLS:
        if c in d and isinstance(d[c], str):
            d[c] = json.loads(d[c])
    return d


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ValueError("send a JSON object")
    return body


def _epoch(body: dict[str, Any], key: str, default: float | None) -> float:
    """Epoch seconds from a JSON body; anything else is a 400, not a 500."""
    value = body.get(key, default)
    try:
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise ValueError
        seconds = float(value)
        if not math.isfinite(seconds) or not 0 <= seconds < 1e11:
            raise ValueError
    except ValueError:
        raise ValueError(f"{key} must be epoch seconds, not {str(value)[:40]!r}") from None
    return seconds


def init_app(app: Flask, engine: Any) -> None:
    bp = Blueprint("alerts_api", __name__, url_prefix="/api")
    db = engine.store.engine

    @bp.errorhandler(ValueError)
    def bad_request(exc: ValueError):  # type: ignore[no-untyped-def]
        if isinstance(exc, ValidationError):
            msg = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            return jsonify(error=msg), 400
        return jsonify(error=str(exc)), 400

    @bp.errorhandler(AckError)
    def ack_error(exc: AckError):  # type: ignore[no-untyped-def]
        return jsonify(error=exc.description), exc.status

    @bp.get("/alerts")
    def list_alerts():  # type: ignore[no-untyped-def]
        state = request.args.get("state")
        if state is not None and state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        q = select(alert_state).order_by(alert_state.c.rule, alert_state.c.alert_key)
        if state == "open":
            q = q.where(alert_state.c.state.in_(OPEN))
        elif state:
            q = q.where(alert_state.c.state == state)
        with db.connect() as conn:
            return jsonify(alerts=[_alert(r) for r in conn.execute(q)])

    # ids are 64-bit in the store: a larger one is a 404, not an OverflowError.
    @bp.get("/alerts/<int(max=9223372036854775807):alert_id>")
    def get_alert(alert_id: int):  # type: ignore[no-untyped-def]
        limit = min(max(int(request.args.get("limit", "200")), 1), 5000)
        with db.connect() as conn:
            row = conn.execute(select(alert_state).where(alert_state.c.id == alert_id)).first()
            if row is None:
                return jsonify(error=f"no alert with id {alert_id}"), 404
            trans = conn.execute(select(alert_transitions).where(alert_transitions.c.alert_id == alert_id)
                                 .order_by(alert_transitions.c.id.desc()).limit(limit)).all()
            events = conn.execute(select(alert_events).where(alert_events.c.alert_id == alert_id)
                                  .order_by(alert_events.c.id.desc()).limit(limit)).all()
        ev = [{**dict(e._mapping), "payload": json.loads(e.payload)} for e in events]
        return jsonify(alert=_alert(row), transitions=[dict(t._mapping) for t in trans], events=ev)

    @bp.post("/alerts/<int(max=9223372036854775807):alert_id>/ack")
    def ack(alert_id: int):  # type: ignore[no-untyped-def]
        body = _body()
        who = body.get("who")
        if not isinstance(who, str) or not who.strip():
            raise ValueError("who is required")
        return jsonify(engine.ack(alert_id, who.strip()[:200], body.get("comment")))

    @bp.get("/alerts/report")
    def report():  # type: ignore[no-untyped-def]
        r = engine.last_report
        return jsonify(report=r.as_json() if r else None)

    @bp.get("/silences")
    def list_silences():  # type: ignore[no-untyped-def]
        now = engine.clock()
        with db.connect() as conn:
            got = sil.list_silences(conn, request.args.get("all") in ("1", "true"), now)
        return jsonify(silences=[s.as_json(now) for s in got])

    @bp.post("/silences")
    def create_silence():  # type: ignore[no-untyped-def]
        body = _body()
        now = engine.clock()
        starts = _epoch(body, "starts_at", now)
        if "ends_at" in body:
            ends = _epoch(body, "ends_at", None)
        elif "duration" in body:
            ends = starts + parse_duration(body["duration"])
        else:
            raise ValueError("give ends_at (epoch seconds) or duration (e.g. 2h)")
        author, comment = body.get("author"), body.get("comment")
        if not isinstance(author, str) or not isinstance(comment, str):
            raise ValueError("author and comment are required")
        sid = engine.silence(body.get("matchers"), starts, ends, author[:200], comment, now=now)
        with db.connect() as conn:
            s = next(s for s in sil.list_silences(conn, True, now) if s.id == sid)
        return jsonify(silence=s.as_json(now)), 201

    @bp.delete("/silences/<int(max=9223372036854775807):silence_id>")
    def expire_silence(silence_id: int):  # type: ignore[no-untyped-def]
        if not engine.expire_silence(silence_id):
            return jsonify(error=f"no active or pending silence {silence_id}"), 404
        return jsonify(id=silence_id, status="expired")

    app.register_blueprint(bp)
