"""Attach alerting to a Lookout process: schema, engine, notifier, jobs, routes.

Every role gets the engine object (the web API writes acks and silences with
it), but only the roles that own the schedule (all, worker) evaluate and
dispatch: the scheduler runs ``evaluate`` every ``evaluation_interval`` and
``route`` + ``dispatch`` every second, and the pipeline triggers an extra
evaluation of the rules that read a batch's metrics right after it lands,
so detection does not wait for the next tick.
"""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from alerts.engine import AlertEngine

log = logging.getLogger("lookout.alerts")
DISPATCH_SECONDS = 1.0


def attach(runtime: Any) -> AlertEngine:
    engine = AlertEngine(runtime.config, runtime.store, clock=runtime.clock)
    engine.migrate()
    runtime.extras["alert_engine"] = engine
    notifier = None
    try:
        from alerts.notify import Notifier
        notifier = Notifier(runtime.config, runtime.store, clock=runtime.clock)
        runtime.extras["notifier"] = notifier
    except ImportError as exc:  # pragma: no cover - only while alerts/notify is incomplete
        log.warning("notifications are not available: %s", exc)
    if runtime.scheduler is None:
        return engine
    interval = runtime.config.alerting.evaluation_interval
    runtime.scheduler.add_periodic("alerts:evaluate", lambda: _safe(engine.evaluate), interval)
    if notifier is not None:
        runtime.scheduler.add_periodic("alerts:dispatch", lambda: _notify(notifier), DISPATCH_SECONDS)

    def after_batch(batch: Any) -> None:
        names = {s.name for s in batch.samples}
        if any(r.metrics() & names for r in engine.config.rules):
            # Non-blocking: when a cycle is running it reads the same samples.
            engine.evaluate(only_metrics=names, blocking=False)

    runtime.pipeline.add_listener(after_batch)
    return engine


def init_web(app: Flask, runtime: Any) -> None:
    from alerts import api
    engine = runtime.extras.get("alert_engine")
    if engine is None:
        return
    api.init_app(app, engine)
    notifier = runtime.extras.get("notifier")
    if notifier is not None:
        from alerts.notify import web
        web.init_app(app, notifier, ack=engine.ack)


def _safe(fn: Any) -> None:
    try:
        fn()
    except Exception:
        log.exception("alert evaluation failed")


def _notify(notifier: Any) -> None:
    try:
        notifier.route()
        notifier.dispatch()
    except Exception:
        log.exception("notification dispatch failed")
