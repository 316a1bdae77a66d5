"""``/api/demo``: list the incident scenarios and switch them on a running demo."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, jsonify, request

from demo.shop.scenarios import SCENARIOS

if TYPE_CHECKING:
    from demo.runner import Demo


def init_app(app: Flask, current: Callable[[], Demo | None]) -> None:
    """``current`` returns the running demo, or None where this process runs none."""
    bp = Blueprint("demo", __name__, url_prefix="/api/demo")

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
