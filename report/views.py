"""``GET /report?since=7d[&format=md]``: the claims report, behind the dashboard's login.

The auth guard (webauth/guard.py) covers every route it does not list as
open, so this page needs a session like the dashboard does.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy.exc import SQLAlchemyError

from report.build import build
from report.cli import DEFAULT_SINCE, parse_format, parse_since, render
from report.context import ReportRuntime

log = logging.getLogger("lookout.report")
EXTENSION = "lookout_report"
bp = Blueprint("report", __name__)


def init_app(app: Flask, runtime: ReportRuntime) -> None:
    app.extensions[EXTENSION] = runtime
    app.register_blueprint(bp)


@bp.get("/report")
def report_page() -> Response:
    runtime: ReportRuntime = current_app.extensions[EXTENSION]
    try:
        since = parse_since(request.args.get("since", DEFAULT_SINCE))
        fmt = parse_format(request.args.get("format", "html"))
    except ValueError as exc:
        return Response(f"{exc}\n", status=400, mimetype="text/plain")
    try:
        report = build(runtime.config.promises, runtime.store, runtime.clock(), since)
    except SQLAlchemyError:
        log.exception("report: the store could not be read")
        return Response("the store could not be read; the log says why\n", status=503, mimetype="text/plain")
    mimetype = "text/html" if fmt == "html" else "text/markdown"
    return Response(render(report, fmt), mimetype=mimetype)
