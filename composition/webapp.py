"""The Flask application factory: JSON API, /metrics and the dashboard."""
from __future__ import annotations

from flask import Flask

import api.routes
import composition.alerting
import composition.demo
import composition.reload_view
import dashboards
import exporter.views
import report.views
import webauth
from composition.runtime import Runtime


def make_flask_app(runtime: Runtime) -> Flask:
    app = Flask("lookout")
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["lookout"] = runtime
    webauth.init_app(app, runtime)  # first: its guard sees every request before the routes
    api.routes.init_app(app, runtime)
    composition.alerting.init_web(app, runtime)
    composition.demo.init_web(app, runtime)
    composition.reload_view.init_app(app, runtime)  # POST /api/reload
    report.views.init_app(app, runtime)  # GET /report: the claims report
    if runtime.collects:
        # /metrics is served by the process that collects (DESIGN.md): a web
        # replica has no snapshot of its own to serve.
        exporter.views.init_app(app, runtime.snapshot)
    # The dashboard serves / and every page path; /api and /metrics stay more specific.
    dashboards.init_app(app, runtime)
    return app
