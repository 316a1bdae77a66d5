"""JSON API of alerting: alerts, their history, acks and silences.

    GET    /api/alerts                     alerts that are not ok (pending, firing, stale, flapping)
    GET    /api/alerts?state=all           every alert instance; or state=ok|pending|firing|stale|flapping|open
    GET    /api/alerts/<id>                one alert with its transitions and events
    POST   /api/alerts/<id>/ack            {"who": "...", "comment": "..."}
    GET    /api/alerts/report              the last evaluation's report (this process)
    GET    /api/silences?all=1             active and future silences (all=1: expired too)
    POST   /api/silences                   {"matchers": {...} | ["l=~re"], "ends_at"|"duration", "author", "comment"}
    DELETE /api/silences/<id>              expire now

Each alert carries ``started_at``, when its episode began (the first crossing,
not the moment it fired). Summaries are true to the state: an ok alert's
``summary`` is its rule's condition ("OK: warning above 5.0 %, critical above
10.0 %"), never the firing text its template was written for ("Target shop-api
is down"), and it has no ``description``; values in summaries read in the
rule's unit, and a missing value reads "–", never "nan".

Reads go through :mod:`alerts.queries`, writes through the app's
:class:`~alerts.engine.AlertEngine` (``init_app`` puts it in ``app.extensions``).
"""
from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from alerts import queries
from alerts.acks import AckError
from alerts.engine import AlertEngine
from core.durations import parse_duration

EXTENSION = "lookout_alerts"

bp = Blueprint("alerts_api", __name__, url_prefix="/api")


def init_app(app: Flask, engine: AlertEngine) -> None:
    app.extensions[EXTENSION] = engine
    app.register_blueprint(bp)


def _engine() -> AlertEngine:
    engine: AlertEngine = current_app.extensions[EXTENSION]
    return engine


def _db() -> Engine:
    db: Engine = _engine().store.engine
    return db


# -- errors ---------------------------------------------------------------------

@bp.errorhandler(ValueError)
def bad_request(exc: ValueError) -> ResponseReturnValue:
    if isinstance(exc, ValidationError):
        msg = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return jsonify(error=msg), 400
    return jsonify(error=str(exc)), 400


@bp.errorhandler(AckError)
def ack_error(exc: AckError) -> ResponseReturnValue:
    return jsonify(error=exc.description), exc.status


# -- alerts -------------------------------------------------------------------------
# ids are 64-bit in the store: a larger one is a 404, not an OverflowError.

@bp.get("/alerts")
def list_alerts() -> ResponseReturnValue:
    return jsonify(alerts=queries.alert_rows(_db(), request.args.get("state") or "not_ok"))


@bp.get("/alerts/<int(max=9223372036854775807):alert_id>")
def get_alert(alert_id: int) -> ResponseReturnValue:
    limit = min(max(int(request.args.get("limit", "200")), 1), 5000)
    detail = queries.alert_detail(_db(), alert_id, limit)
    if detail is None:
        return jsonify(error=f"no alert with id {alert_id}"), 404
    return jsonify(alert=detail.alert, transitions=detail.transitions, events=detail.events)


@bp.post("/alerts/<int(max=9223372036854775807):alert_id>/ack")
def ack(alert_id: int) -> ResponseReturnValue:
    body = _body()
    who = body.get("who")
    if not isinstance(who, str) or not who.strip():
        raise ValueError("who is required")
    return jsonify(_engine().ack(alert_id, who.strip()[:200], body.get("comment")))


@bp.get("/alerts/report")
def report() -> ResponseReturnValue:
    r = _engine().last_report
    return jsonify(report=r.as_json() if r else None)


# -- silences -----------------------------------------------------------------------

@bp.get("/silences")
def list_silences() -> ResponseReturnValue:
    now = _engine().clock()
    got = queries.list_silences(_db(), request.args.get("all") in ("1", "true"), now)
    return jsonify(silences=[s.as_json(now) for s in got])


@bp.post("/silences")
def create_silence() -> ResponseReturnValue:
    body = _body()
    engine = _engine()
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
    created = queries.get_silence(_db(), sid)
    assert created is not None  # just written; pruning deletes only silences that ended long ago
    return jsonify(silence=created.as_json(now)), 201


@bp.delete("/silences/<int(max=9223372036854775807):silence_id>")
def expire_silence(silence_id: int) -> ResponseReturnValue:
    if not _engine().expire_silence(silence_id):
        return jsonify(error=f"no active or pending silence {silence_id}"), 404
    return jsonify(id=silence_id, status="expired")


# -- request bodies -----------------------------------------------------------------

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
