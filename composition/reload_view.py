"""``POST /api/reload``: re-read the config file of this process and apply it (composition/reload.py).

Under ``/api/`` the request guard applies (webauth/guard.py): with ``auth:`` it takes a
session with its CSRF token or a bearer token of ``write`` scope; without, it is open
like every other API call (loopback only, cross-origin writes refused).

Answers 200 ``{"status": "applied", ...}`` with what changed and what needs a restart,
422 ``{"status": "refused", "errors": [...]}`` when the file has mistakes (the running
config stays), 409 when this process cannot reload (not started from a file it can read).
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from api.errors import EXTENSION as API_ERRORS
from composition.config import Config
from composition.runtime import Runtime

bp = Blueprint("reload", __name__, url_prefix="/api")


def init_app(app: Flask, runtime: Runtime) -> None:
    app.register_blueprint(bp)
    if runtime.reloader is not None:
        def mask_api_errors(config: Config) -> None:
            outage = app.extensions.get(API_ERRORS)  # masks secrets in the API's store-outage answers
            if outage is not None:
                outage.secrets = config.secret_values
        runtime.reloader.on_applied.append(mask_api_errors)


@bp.post("/reload")
def post_reload() -> ResponseReturnValue:
    runtime: Runtime = current_app.extensions["lookout"]
    if runtime.reloader is None or runtime.config_path is None:
        return jsonify(status="refused", error=(
            "this process was not started from a config file it can read again: a web replica under "
            "gunicorn reloads with `kill -HUP <gunicorn master pid>`")), 409
    result = runtime.reloader.reload()
    body = result.as_json()
    if not result.applied:
        body["error"] = result.summary()
    return jsonify(body), 200 if result.applied else 422
