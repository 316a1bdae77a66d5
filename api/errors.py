"""How every ``/api/*`` answer fails: JSON that says why, with the right status, never a guess.

- A bad parameter (:class:`~core.params.ParamError`, from any view of the app) is a 400
  naming the parameter.
- A path under ``/api/`` that no API route serves is a JSON 404 (405 with ``Allow`` for
  a known path and a wrong method), not the dashboard's HTML: the Dash app serves
  every path (``/<path:path>``), so the API must claim its own prefix. Likewise a path
  under ``/ack/`` that is no acknowledgement link is a 404 saying so, not the
  dashboard's shell (``/ack/`` is open to anyone: the token is its own credential).
- The store not being there (refused, down, a timeout: ``store.availability``) is a
  503 with a JSON error, and one log line when it starts and one when the API reads
  again, not a traceback per request.
- A value the store's column types refuse (a number past a 32-bit column, a NUL byte
  in a text column on PostgreSQL) that a view did not validate is a 400, not a 500:
  the views validate with :mod:`core.params`, this is the net under them.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import MethodNotAllowed, NotFound

from api.bounded import Late
from core import params
from core.masking import mask
from store.availability import UNAVAILABLE

log = logging.getLogger("lookout.api")

API_PREFIX = "/api/"
ACK_PREFIX = "/ack/"
EXTENSION = "lookout_api_outage"


class StoreOutage:
    """The store's availability as this process's API sees it; logs only its changes."""

    def __init__(self, secrets: frozenset[str] = frozenset(), clock: Callable[[], float] = time.monotonic) -> None:
        self.secrets = secrets
        self.clock = clock
        self.down_since: float | None = None
        self.refused = 0
        self._lock = threading.Lock()

    def failed(self, error: str) -> None:
        with self._lock:
            self.refused += 1
            if self.down_since is not None:
                return
            self.down_since = self.clock()
        log.warning("store unavailable: %s; the API answers 503 until it reads again", error)

    def answered(self) -> None:
        if self.down_since is None:  # the common case: no lock
            return
        with self._lock:
            if self.down_since is None:
                return
            seconds, refused = self.clock() - self.down_since, self.refused
            self.down_since, self.refused = None, 0
        log.warning("store available again after %.0fs; the API answered %d request(s) with 503", seconds, refused)


def init_app(app: Flask, secrets: frozenset[str]) -> None:
    app.extensions[EXTENSION] = StoreOutage(secrets)
    app.register_error_handler(params.ParamError, bad_param)
    for cls in (*UNAVAILABLE, Late):
        app.register_error_handler(cls, store_unavailable)
    app.register_error_handler(sa_exc.DataError, store_refused_value)
    app.register_error_handler(NotFound, not_found)
    app.register_error_handler(MethodNotAllowed, not_allowed)
    app.before_request(claim_prefixes)
    app.after_request(note_answer)


def _outage() -> StoreOutage:
    outage: StoreOutage = current_app.extensions[EXTENSION]
    return outage


def _api(path: str | None = None) -> bool:
    path = request.path if path is None else path
    return path.startswith(API_PREFIX) or path == API_PREFIX.rstrip("/")


def bad_param(exc: params.ParamError) -> ResponseReturnValue:
    return jsonify(error=str(exc), param=exc.param), 400


def store_unavailable(exc: Exception) -> ResponseReturnValue:
    if not _api():
        raise exc  # the dashboard's own handling (its store banner) and Flask's 500 as before
    outage = _outage()
    cause = getattr(exc, "orig", None) or exc
    reason = mask(f"{type(cause).__name__}: {cause}".strip().splitlines()[0][:300], outage.secrets)
    outage.failed(reason)
    g.lookout_store_refused = True
    res = jsonify(error="store unavailable: " + reason, retry=True)
    res.status_code = 503
    res.headers["Retry-After"] = "5"
    return res


def store_refused_value(exc: sa_exc.DataError) -> ResponseReturnValue:
    if not _api():
        raise exc
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
    return jsonify(error="a parameter does not fit the store's column types: "
                         + mask(cause, _outage().secrets)), 400


def not_found(exc: NotFound) -> ResponseReturnValue:
    if _api():
        return jsonify(error=f"no API endpoint at {request.path[:200]} (see /api/openapi.json)"), 404
    return exc


def not_allowed(exc: MethodNotAllowed) -> ResponseReturnValue:
    if not _api():
        return exc
    allowed = sorted(exc.valid_methods or ())
    res = jsonify(error=f"{request.method} is not allowed on {request.path[:200]}; allowed: {', '.join(allowed)}")
    res.status_code = 405
    if allowed:
        res.headers["Allow"] = ", ".join(allowed)
    return res


def claim_prefixes() -> Response | None:
    """``/api/…`` and ``/ack/…`` paths that only the dashboard's catch-all matched are not pages."""
    rule = request.url_rule
    if rule is None:
        return None  # no route at all: Flask raises NotFound/MethodNotAllowed, handled above
    path = request.path
    if _api(path) and not rule.rule.startswith(API_PREFIX):
        res = jsonify(error=f"no API endpoint at {path[:200]} (see /api/openapi.json)")
        res.status_code = 404
        return res
    if path.startswith(ACK_PREFIX) and not rule.rule.startswith(ACK_PREFIX):
        served = any(r.rule.startswith(ACK_PREFIX) for r in current_app.url_map.iter_rules())
        why = ("Acknowledgement links look like <code>/ack/&lt;token&gt;</code>, as in the notification."
               if served else "This Lookout process does not serve acknowledgement links (it runs no alerting).")
        return Response("<!doctype html><meta charset='utf-8'><title>Lookout: not an acknowledgement link</title>"
                        f"<h1>Not an acknowledgement link</h1><p>{why} Open the alert in Lookout to acknowledge "
                        "it instead.</p>", status=404, content_type="text/html; charset=utf-8")
    return None


def note_answer(response: Response) -> Response:
    """An API view that ran and answered below 500 read the store (or needed none): the outage is over."""
    if (response.status_code < 500 and _api() and request.url_rule is not None
            and not g.get("lookout_store_refused") and request.endpoint in _STORE_READERS):
        _outage().answered()
    return response


# Endpoints whose answer below 500 means the store answered: the API's and the alerts' reads.
_STORE_READERS = frozenset({
    "api.get_targets", "api.get_series", "api.get_metric_names", "api.get_promises", "api.get_health",
    "alerts_api.list_alerts", "alerts_api.get_alert", "alerts_api.list_silences", "sink_api", "outbox_list",
})
