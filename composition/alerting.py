"""Attach alerting to a Lookout process: schema, engine, notifier, jobs, routes.

Every role gets the engine object (the web API writes acks and silences with
it), but only the roles that own the schedule (all, worker) evaluate and
dispatch: the scheduler runs ``evaluate`` every ``evaluation_interval``,
``route`` + ``dispatch`` every second and the history pruning (alerts/prune.py)
every hour, and the pipeline triggers an extra evaluation of the rules that
read a batch's metrics right after it lands, so detection does not wait for
the next tick.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask

from alerts import api
from alerts.engine import AlertEngine
from alerts.notify import web
from alerts.notify.channels import sink
from alerts.notify.notifier import Notifier
from alerts.prune import PRUNE_SECONDS, prune
from composition.clustering import leads
from composition.runtime import Runtime
from core.samples import Batch
from demo import sink_page
from store.availability import store_unavailable

log = logging.getLogger("lookout.alerts")
DISPATCH_SECONDS = 1.0


def attach(runtime: Runtime) -> AlertEngine:
    engine = AlertEngine(runtime.config, runtime.store, clock=runtime.clock)
    engine.migrate()
    runtime.alert_engine = engine
    notifier = Notifier(runtime.config, runtime.store, clock=runtime.clock)
    runtime.notifier = notifier
    if runtime.scheduler is None:
        return engine
    interval = runtime.config.alerting.evaluation_interval
    # Cluster workers: only the elected evaluator / dispatcher does these (composition/clustering.py).
    sched = runtime.scheduler
    sched.add_periodic("alerts:evaluate",
                       _when_leading(runtime, "evaluator", _BacklogGate(runtime, engine.evaluate)),
                       interval)
    routing = threading.Lock()  # route() and the pruning of closed notify_alerts/notify_groups rows
    sched.add_periodic("alerts:dispatch", _when_leading(runtime, "dispatcher", lambda: _notify(notifier, routing)),
                       DISPATCH_SECONDS)
    # With the dispatcher: that is where route() runs, so the routing lock covers a cluster too.
    sched.add_periodic("alerts:prune", _when_leading(runtime, "dispatcher", lambda: _prune(runtime, routing)),
                       PRUNE_SECONDS)

    def after_batch(batch: Batch) -> None:
        if runtime.pipeline.backlog():
            return  # writing back a backlog: evaluating now would judge windows still missing samples
        names = {s.name for s in batch.samples}
        if leads(runtime, "evaluator", fresh=False) and any(r.metrics() & names for r in engine.config.rules):
            # Non-blocking: when a cycle is running it reads the same samples.
            engine.evaluate(only_metrics=names, blocking=False)

    runtime.pipeline.add_listener(after_batch)
    return engine


def init_web(app: Flask, runtime: Runtime) -> None:
    engine, notifier = runtime.alert_engine, runtime.notifier
    if engine is None or notifier is None:
        return
    api.init_app(app, engine)
    ncfg = runtime.config.alerting.notifications
    sink_page.init_app(app, runtime.store.engine, sink.receiver_names(ncfg))
    web.init_app(app, notifier, ack=engine.ack)


def _when_leading(runtime: Runtime, role: str, job: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        if leads(runtime, role):
            job()
    return run


class _BacklogGate:
    """Evaluate, unless collected batches still wait for the store.

    A rule over a window whose samples are still in memory would see a gap and
    page "no data", then "resolved" once they land. So while anything waits,
    every alert keeps its state (the batch listener skips too), and this job
    catches up as soon as the backlog is gone.
    Said once each way, not every cycle.
    """

    def __init__(self, runtime: Runtime, evaluate: Callable[[], object]) -> None:
        self.runtime, self.evaluate, self.waiting = runtime, evaluate, False

    def __call__(self) -> None:
        backlog = self.runtime.pipeline.backlog()
        if backlog:
            if not self.waiting:
                log.warning("alert evaluation waits: %d collected batches are not in the store yet", backlog)
            self.waiting = True
            return
        if self.waiting:
            log.warning("alert evaluation resumes: the store has every collected batch")
            self.waiting = False
        _safe(self.evaluate)


_store_down: set[str] = set()  # jobs that already said the store is unavailable


def _failed(job: str, exc: Exception) -> None:

    if not store_unavailable(exc):
        log.exception("%s failed", job)
    elif job not in _store_down:  # one clear line per outage, not a traceback every second
        _store_down.add(job)
        log.warning("%s skipped while the store is unavailable (%s); retrying every cycle",
                    job, str(exc).splitlines()[0][:200])


def _ok(job: str) -> None:
    if job in _store_down:
        _store_down.discard(job)
        log.warning("%s works again: the store is back", job)


def _safe(fn: Callable[[], object]) -> None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - logged by _failed; a job must never stop the scheduler
        _failed("alert evaluation", exc)
    else:
        _ok("alert evaluation")


def _notify(notifier: Notifier, routing: threading.Lock) -> None:
    try:
        with routing:
            notifier.route()
        notifier.dispatch()
    except Exception as exc:  # noqa: BLE001 - logged by _failed; a job must never stop the scheduler
        _failed("notification dispatch", exc)
    else:
        _ok("notification dispatch")


def _prune(runtime: Runtime, routing: threading.Lock) -> None:
    try:
        alerting = runtime.config.alerting
        prune(runtime.store, alerting.history_retention, runtime.clock(), routing_lock=routing,
              receivers=[r.name for r in alerting.notifications.receivers])
    except Exception as exc:  # noqa: BLE001 - logged by _failed; a job must never stop the scheduler
        _failed("alert history pruning", exc)
    else:
        _ok("alert history pruning")
