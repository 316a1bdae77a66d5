"""Flask routes: signed ack links and the outbox (incl. dead letters).

``GET /ack/<token>`` shows what will be acknowledged and a button;
``POST /ack/<token>`` acknowledges. A GET must not change state: mail
scanners (Outlook Safe Links, Proofpoint) and Slack's link unfurling fetch
links before a person clicks, and would ack every page on arrival.

    init_app(app, notifier, ack=engine.ack)
"""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from flask import Flask, abort, jsonify, request
from flask.typing import ResponseReturnValue

from alerts.notify.links import AckLinkError
from core import params

AckFn = Callable[[int, str], Any]

_PAGE = ("<!doctype html><html><head><meta charset='utf-8'><title>Lookout: acknowledge</title></head>"
         "<body style='font-family:sans-serif;max-width:40em;margin:3em auto'>{body}</body></html>")


def init_app(app: Flask, notifier: Any, ack: AckFn | None = None) -> None:
    """Mount the routes; ``ack(alert_id, who)`` is ENGINE's ``AlertEngine.ack``."""

    def ack_fn() -> AckFn:
        if ack is not None:
            return ack
        runtime = app.extensions.get("lookout")
        engine = getattr(runtime, "alert_engine", None)
        if engine is None:
            abort(503, "alerting is not running in this process")
        return engine.ack

    def verify(token: str) -> tuple[int, str] | str:
        try:
            return notifier.verify_ack_token(token)
        except AckLinkError as exc:
            return exc.reason

    @app.get("/ack/<token>")
    def ack_confirm(token: str) -> ResponseReturnValue:
        result = verify(token)
        if isinstance(result, str):
            return _PAGE.format(body=f"<h1>Cannot acknowledge</h1><p>{html.escape(result)}</p>"), 400
        alert_id, _who = result
        body = (f"<h1>Acknowledge alert #{alert_id}?</h1><p>Repeats stop until it changes severity or resolves."
                f"</p><form method='post'><label>Your name <input name='who' required></label> "
                f"<button type='submit'>Acknowledge</button></form>")
        return _PAGE.format(body=body)

    @app.post("/ack/<token>")
    def ack_do(token: str) -> ResponseReturnValue:
        result = verify(token)
        if isinstance(result, str):
            return jsonify(error=result), 400
        alert_id, who = result
        given = request.form.get("who") or (request.get_json(silent=True) or {}).get("who")
        if given is not None and not isinstance(given, str):
            return jsonify(error="who: must be a string", param="who"), 400
        if given and "\x00" in given:
            return jsonify(error="who: must not contain a NUL byte", param="who"), 400
        who = (given or who)[:200]
        outcome = ack_fn()(alert_id, who)
        if request.accept_mimetypes.best == "application/json" or request.is_json:
            return jsonify(alert_id=alert_id, acked_by=who, result=_plain(outcome))
        return _PAGE.format(body=f"<h1>Acknowledged</h1><p>Alert #{alert_id} acknowledged by "
                                 f"{html.escape(who)}.</p>")

    @app.get("/api/outbox")
    def outbox_list() -> ResponseReturnValue:
        status = request.args.get("status")
        if status not in (None, "pending", "sending", "sent", "dead"):
            return jsonify(error="status must be one of pending, sending, sent, dead"), 400
        try:
            limit = params.integer(request.args, "limit", 200, 1, 1000)  # refused outside, never clamped
        except params.ParamError as exc:
            return jsonify(error=str(exc), param=exc.param), 400
        rows = notifier.outbox_rows(status=status, limit=limit)
        return jsonify(rows=rows, dead=sum(1 for r in rows if r["status"] == "dead"))

    @app.post("/api/outbox/<int(max=2147483647):outbox_id>/retry")
    def outbox_retry(outbox_id: int) -> ResponseReturnValue:
        if not notifier.requeue(outbox_id):
            return jsonify(error=f"outbox row {outbox_id} is not a dead letter"), 409
        return jsonify(id=outbox_id, status="pending")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)
