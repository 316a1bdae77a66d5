"""Attach the embedded demo to a Lookout process (role all or worker only).

The demo's servers start before the first collection and stop after the
last; scenarios switch from the CLI (``--scenario``) and ``/api/demo``.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request

from demo.shop.scenarios import SCENARIOS


def attach(runtime: Any) -> None:
    cfg = runtime.config.demo
    # Only the all-in-one process runs the demo: with several --role worker
    # processes each would start its own embedded servers on the same ports.
    if not cfg.enabled or runtime.role != "all":
        return
    from demo.runner import Demo

    demo = Demo(cfg, runtime.config.base_dir)
    runtime.extras["demo"] = demo
    runtime.before_start.append(demo.start)
    runtime.after_stop.append(demo.stop)


def init_web(app: Flask, runtime: Any) -> None:
    bp = Blueprint("demo", __name__, url_prefix="/api/demo")

    def current():
        return runtime.extras.get("demo")

    @bp.get("/scenarios")
    def list_scenarios():
        demo = current()
        if demo is None:
            return jsonify(enabled=False, scenarios=[{"name": n, "active": False, "description": d}
                                                     for n, d in SCENARIOS.items()])
        return jsonify(enabled=True, scenarios=demo.scenarios.describe())

    @bp.post("/scenarios/<name>")
    def switch(name: str):
        demo = current()
        if demo is None:
            return jsonify(error="the demo is not running in this process (demo.enabled is false)"), 409
        if name not in SCENARIOS:
            return jsonify(error=f"unknown scenario {name!r}", param="name", known=sorted(SCENARIOS)), 404
        body = request.get_json(silent=True) or {}
        active = body.get("active", True)
        if not isinstance(active, bool):
            return jsonify(error="active: must be true or false", param="active"), 400
        demo.scenarios.set(name, active)
        return jsonify(name=name, active=active)

    app.register_blueprint(bp)
