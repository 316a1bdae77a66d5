"""The OpenAPI 3.0 description of the JSON API, served at ``/api/openapi.json``.

Hand-written from the route code (api/routes.py, alerts/api.py,
alerts/notify/web.py, demo/wiring.py, webauth/configview.py); the security
tests run schemathesis against it, so a route that drifts from it fails.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

_OBJ: dict[str, Any] = {"type": "object"}
_ERROR = {"description": "Refused: the body says why.",
          "content": {"application/json": {"schema": {
              "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}


def _ok(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema or _OBJ}}}


def _q(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


# Ids are the store's INTEGER columns: 32-bit signed on PostgreSQL. Larger ones answer 400 or 404.
MAX_ID = 2**31 - 1


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": MAX_ID}}


def _op(summary: str, ok: dict[str, Any], *, params: list | None = None, body: dict | None = None,
        status: str = "200", public: bool = False, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    # "default" covers every refusal: 400 (a parameter, named), 401/403, 404, 429 (too many failed
    # credentials from this address, with Retry-After) and 503 (the store is unavailable).
    op: dict[str, Any] = {"summary": summary, "responses": {status: ok, "default": _ERROR, **(extra or {})}}
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if public:
        op["security"] = []
    return op


_TIME = {"type": "string", "description": "Epoch seconds, RFC 3339, now, now-1h or -15m."}
_SILENCE_BODY = {
    "type": "object", "required": ["author", "comment"],
    "properties": {
        "matchers": {"oneOf": [{"type": "object", "additionalProperties": {"type": "string"}},
                               {"type": "array", "items": {"type": "string"}}],
                     "description": '{label: value} or ["label=~regex", "label!=value"].'},
        "starts_at": {"type": "number", "description": "Epoch seconds (default now)."},
        "ends_at": {"type": "number", "description": "Epoch seconds; or give duration."},
        "duration": {"type": "string", "description": "e.g. 2h (instead of ends_at)."},
        "author": {"type": "string"}, "comment": {"type": "string"},
    },
}

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Lookout JSON API", "version": "1",
             "description": "Health, targets, time series, promises, alerts, silences, the notification outbox, "
                            "config reload and the demo's incident scenarios. With an `auth:` section: a session "
                            "cookie (browser) or `Authorization: Bearer <token>`; read tokens may GET, write tokens "
                            "may also POST/"
                            "DELETE. Session requests that change state need the X-CSRFToken header."},
    "components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"},
        "session": {"type": "apiKey", "in": "cookie", "name": "lookout_session"},
    }},
    "security": [{"bearer": []}, {"session": []}],
    "paths": {
        "/api/health": {"get": _op(
            "Is Lookout working (pass/warn/fail). Anonymous callers get only the verdict when auth is on.",
            _ok("pass or warn"), public=True, extra={"503": _ok("fail: store not writable or no scheduler")})},
        "/api/openapi.json": {"get": _op("This document.", _ok("OpenAPI 3"), public=True)},
        "/api/config": {"get": _op("The effective configuration, every secret masked.", _ok("config"))},
        "/api/targets": {"get": _op(
            "Targets with `up` (the collection ran), `status` (up, failing, down, not collected), "
            "`failing_probes` and the last error (no connection settings).", _ok("targets"))},
        "/api/metrics": {"get": _op("Metric names in the store.", _ok("names"))},
        "/api/series": {"get": _op("A downsampled range of one metric.", _ok("series"), params=[
            _q("name", "Metric name.", {"type": "string"}, required=True),
            _q("labels", "Label matchers: JSON object or k=v,k2=v2.", {"type": "string"}),
            _q("start", "Range start (default end-1h).", _TIME),
            _q("end", "Range end (default now).", _TIME),
            _q("points", "Buckets.", {"type": "integer", "minimum": 1, "maximum": 5000}),
            _q("mode", "value or rate.", {"type": "string", "enum": ["value", "rate"]}),
        ])},
        "/api/alerts": {"get": _op("Alert instances.", _ok("alerts"), params=[
            _q("state", "Filter.", {"type": "string",
                                    "enum": ["ok", "pending", "firing", "stale", "flapping", "open"]})])},
        "/api/alerts/report": {"get": _op("The last evaluation's report.", _ok("report"))},
        "/api/alerts/{alert_id}": {"get": _op(
            "One alert with its transitions and events.", _ok("alert"),
            params=[_path_id("alert_id"), _q("limit", "Rows of history.", {"type": "integer", "minimum": 1})])},
        "/api/alerts/{alert_id}/ack": {"post": _op(
            "Acknowledge: repeats stop until severity changes or it resolves.", _ok("ack result"),
            params=[_path_id("alert_id")],
            body={"type": "object", "required": ["who"],
                  "properties": {"who": {"type": "string"}, "comment": {"type": "string", "nullable": True}}})},
        "/api/silences": {
            "get": _op("Active and future silences.", _ok("silences"),
                       params=[_q("all", "1: expired too.", {"type": "string", "enum": ["0", "1", "true"]})]),
            "post": _op("Create a silence.", _ok("the silence"), body=_SILENCE_BODY, status="201"),
        },
        "/api/silences/{silence_id}": {"delete": _op("Expire a silence now.", _ok("expired"),
                                                     params=[_path_id("silence_id")])},
        "/api/outbox": {"get": _op("Notification outbox rows (dead letters included).", _ok("rows"), params=[
            _q("status", "Filter.", {"type": "string", "enum": ["pending", "sending", "sent", "dead"]}),
            _q("limit", "Rows (1..1000).", {"type": "integer", "minimum": 1, "maximum": 1000})])},
        "/api/outbox/{outbox_id}/retry": {"post": _op("Re-queue a dead letter.", _ok("pending"),
                                                      params=[_path_id("outbox_id")])},
        "/api/sink": {"get": _op(
            "Messages a sink receiver kept (demo/tests; mounted only when one is configured).", _ok("messages"),
            params=[_q("limit", "Messages (1..500).", {"type": "integer", "minimum": 1, "maximum": 500}),
                    _q("since_id", "Only newer than this id.", {"type": "integer", "minimum": 0, "maximum": MAX_ID}),
                    _q("receiver", "Only this receiver.", {"type": "string", "maxLength": 200})])},
        "/api/promises": {"get": _op(
            "Each promise's latest evaluation: value, compliance, budget left, burns and its alert's verdict.",
            _ok("promises"))},
        "/api/reload": {"post": _op(
            "Re-read the config file and apply it; a bad file is refused (422) with its errors and the running "
            "config stays; 409 where this process cannot reload (no config file, or one of several web workers).",
            _ok("applied, with what changed"))},
        "/api/demo/scenarios": {"get": _op("The demo's incident scenarios.", _ok("scenarios"))},
        "/api/demo/scenarios/{name}": {"post": _op(
            "Switch a demo scenario on or off.", _ok("switched"),
            params=[{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
            body={"type": "object", "properties": {"active": {"type": "boolean"}}})},
    },
}


def init_app(app: Flask) -> None:
    app.add_url_rule("/api/openapi.json", view_func=openapi_json, methods=["GET"])


def openapi_json() -> ResponseReturnValue:
    return jsonify(SPEC)
