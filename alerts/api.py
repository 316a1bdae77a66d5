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
from core import params
from core.durations import parse_duration
from core.params import ParamError

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

@bp.errorhandler(ParamError)
def bad_param(exc: ParamError) -> ResponseReturnValue:
    return jsonify(error=str(exc), param=exc.param), 400


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
# ids fit the store's 32-bit INTEGER columns (core.params.MAX_ID): a larger one is a 404.

@bp.get("/alerts")
def list_alerts() -> ResponseReturnValue:
    return jsonify(alerts=queries.alert_rows(_db(), request.args.get("state") or "not_ok"))


@bp.get("/alerts/<int(max=2147483647):alert_id>")
def get_alert(alert_id: int) -> ResponseReturnValue:
    limit = params.integer(request.args, "limit", 200, 1, 5000)
    detail = queries.alert_detail(_db(), alert_id, limit)
    if detail is None:
        return jsonify(error=f"no alert with id {alert_id}"), 404
    return jsonify(alert=detail.alert, transitions=detail.transitions, events=detail.events)


@bp.post("/alerts/<int(max=2147483647):alert_id>/ack")
def ack(alert_id: int) -> ResponseReturnValue:
    body = _body()
    who = body.get("who")
    if not isinstance(who, str) or not who.strip():
        raise ParamError("who", "required (a name)")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ParamError("comment", "must be a string or null")
    params.check_text(who, "who", 200)
    if comment is not None:
        params.check_text(comment, "comment", 2000)
    return jsonify(_engine().ack(alert_id, who.strip(), comment))


@bp.get("/alerts/report")
def report() -> ResponseReturnValue:
    r = _engine().last_report
    return jsonify(report=r.as_json() if r else None)


# -- silences -----------------------------------------------------------------------

@bp.get("/silences")
def list_silences() -> ResponseReturnValue:
    now = _engine().clock()
    show_all = params.choice(request.args, "all", ("false", "true", "0", "1")) in ("true", "1")
    got = queries.list_silences(_db(), show_all, now)
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
    if not isinstance(author, str) or not author.strip():
        raise ParamError("author", "required (a name)")
    if not isinstance(comment, str):
        raise ParamError("comment", "required (why)")
    params.check_text(author, "author", 200)
    params.check_text(comment, "comment", 2000)
    _no_nul(body.get("matchers"), "matchers")
    sid = engine.silence(body.get("matchers"), starts, ends, author, comment, now=now)
    created = queries.get_silence(_db(), sid)
    assert created is not None  # just written; pruning deletes only silences that ended long ago
    return jsonify(silence=created.as_json(now)), 201


@bp.delete("/silences/<int(max=2147483647):silence_id>")
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


def _no_nul(value: Any, param: str) -> None:
    """No NUL byte in any string of a JSON value (PostgreSQL's text cannot hold one)."""
    if isinstance(value, str):
        params.check_text(value, param, 10_000)
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k, param)
            _no_nul(v, param)
    elif isinstance(value, list):
        for v in value:
            _no_nul(v, param)


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
