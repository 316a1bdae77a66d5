"""The JSON API: ``/api/health``, ``/api/targets``, ``/api/series``.

    GET /api/health                 is Lookout working, and how are its targets (api.health)
    GET /api/targets                configured targets with their last collection
    GET /api/series?name=&labels=   one metric's series, bucketed (start, end, points, mode)
    GET /api/metrics                the metric names in the store
    GET /api/promises               each promise's latest evaluation with its alert's state

All reads go through the store's query functions; parameters are parsed by
``core.params`` and bound by the store, never formatted into SQL. How every
``/api/*`` answer fails (400 naming the parameter, JSON 404 for unknown paths,
503 while the store is unavailable) is :mod:`api.errors`; what ``status`` and
``failing_probes`` of a target mean is :mod:`api.probes`.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from alerts.promise_rules import promise_views
from api import errors, probes
from api.context import ApiRuntime
from api.health import health, iso
from core import params
from core.masking import mask

EXTENSION = "lookout_api"
MAX_RANGE_SECONDS = 400 * 86400

bp = Blueprint("api", __name__, url_prefix="/api")


def init_app(app: Flask, runtime: ApiRuntime) -> None:
    app.extensions[EXTENSION] = runtime
    app.register_blueprint(bp)
    errors.init_app(app, runtime.config.secret_values)


def _runtime() -> ApiRuntime:
    runtime: ApiRuntime = current_app.extensions[EXTENSION]
    return runtime


@bp.get("/health")
def get_health() -> ResponseReturnValue:
    body, code = health(_runtime())
    return jsonify(body), code


@bp.get("/promises")
def get_promises() -> ResponseReturnValue:
    """What the overview's cards show, from the evaluation the promise's alert was decided on.

    A promise not evaluated yet (the evaluator has not run since start) is listed
    with ``verdict: "pending evaluation"`` and no numbers.
    """
    runtime = _runtime()
    active = runtime.config.promises.active
    views = {v.status.id: v for v in promise_views(runtime.store.engine, [p.id for p in active])}
    out = []
    for p in active:
        v = views.get(p.id)
        out.append(v.as_json() if v is not None else {
            "id": p.id, "title": p.title, "unit": p.unit, "objective": p.objective,
            "verdict": "pending evaluation", "state": "ok"})
    return jsonify(promises=out)


@bp.get("/targets")
def get_targets() -> ResponseReturnValue:
    """Each target with ``up`` (its collection ran) and ``status`` (up, failing, down, not collected).

    A target whose collection ran but whose probes failed is ``status: "failing"`` with
    ``failing_probes`` and a ``last_error`` naming them (api.probes).
    """
    runtime = _runtime()
    secrets = runtime.config.secret_values
    statuses = {s.target: s for s in runtime.store.target_status()}
    failing = probes.failing_probes(runtime.store.documents(key=probes.PROBES_DOC), statuses, secrets)
    out = []
    for t in runtime.config.targets:
        s = statuses.get(t.name)
        failed = failing.get(t.name, []) if s is not None and s.up else []
        error = probes.summary(failed) if failed else mask(s.last_error, secrets) if s and s.last_error else None
        # Only what is safe to show: never connection settings (they may hold secrets).
        out.append({
            "name": t.name, "kind": t.kind, "interval_seconds": t.interval, "timeout_seconds": t.timeout,
            "labels": dict(t.labels),
            "up": None if s is None else bool(s.up),
            "status": probes.state(s, failed),
            "failing_probes": failed,
            "last_success": iso(s.last_success) if s else None,
            "last_error": error,
        })
    return jsonify(targets=out)


@bp.get("/series")
def get_series() -> ResponseReturnValue:
    runtime = _runtime()
    args = request.args
    now = runtime.clock()
    name = params.metric_name(args)
    matchers = params.labels(args)
    end = params.timestamp(args, "end", now, now)
    start = params.timestamp(args, "start", end - 3600, now)
    if start >= end:
        raise params.ParamError("start", "must be before end")
    if end - start > MAX_RANGE_SECONDS:
        raise params.ParamError("start", "range is longer than 400 days")
    points = params.integer(args, "points", 500, 1, 5000)
    mode = params.choice(args, "mode", ("value", "rate"))
    ranges = runtime.store.query_range(name, matchers, start, end, points=points, mode=mode)
    return jsonify(
        name=name, start=start, end=end, points=points, mode=mode,
        series=[{
            "labels": r.series.labels, "kind": r.series.kind,
            "points": [[b.ts, b.min, b.max, b.avg, b.last] for b in r.points],
        } for r in ranges],
        columns=["ts", "min", "max", "avg", "last"],
    )


@bp.get("/metrics")
def get_metric_names() -> ResponseReturnValue:
    return jsonify(names=_runtime().store.metric_names())
