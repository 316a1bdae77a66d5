"""Attach alerting to a Lookout process: schema, engine, notifier, jobs, routes.

Every role gets the engine object (the web API writes acks and silences with
it), but only the roles that own the schedule (all, worker) evaluate and
dispatch: the scheduler runs ``evaluate`` every ``evaluation_interval``,
``route`` + ``dispatch`` every second and the history pruning (alerts/prune.py)
every hour, and the pipeline triggers an extra evaluation of the rules that
read a batch's metrics right after it lands, so detection does not wait for
the next tick.

A config reload (composition/reload.py) calls :func:`reconfigure`: the same
engine learns the new rules (alert state is kept in the store, by rule name),
a changed ``notifications:`` section gets a new Notifier, and a changed
``evaluation_interval`` reschedules the evaluation.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from alerts import api
from alerts.engine import AlertEngine
from alerts.notify import web
from alerts.notify.channels import sink
from alerts.notify.notifier import Notifier
from alerts.prune import PRUNE_SECONDS, prune
from composition.clustering import leads
from composition.config import Config
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
    # The notifier of the moment: a reload may replace it (reconfigure).
    sched.add_periodic("alerts:dispatch", _when_leading(runtime, "dispatcher", lambda: _notify(runtime, routing)),
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
    # Read per request: a reload may add or rename sink receivers.
    sink_page.init_app(app, runtime.store.engine, lambda: sink.receiver_names(runtime.config.alerting.notifications))
    web.init_app(app, _CurrentNotifier(runtime), ack=engine.ack)


class _CurrentNotifier:
    """The runtime's notifier at the time of each call (a reload may replace it)."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def __getattr__(self, name: str) -> Any:
        return getattr(self._runtime.notifier, name)


def reconfigure(runtime: Runtime, old: Config, new: Config, removed_targets: Iterable[str]) -> list[str]:
    """Apply a reloaded config's alerting and promises; returns what changed, for the reload's answer."""
    engine = runtime.alert_engine
    if engine is None:
        return []
    said = []
    before = {r.name: r for r in old.alerting.rules}
    after = {r.name: r for r in new.alerting.rules}
    for verb, names in (("added", after.keys() - before.keys()), ("removed", before.keys() - after.keys()),
                        ("changed", {n for n in after.keys() & before.keys() if after[n] != before[n]})):
        if names:
            said.append(f"rules {verb}: {', '.join(sorted(names))}")
    if old.promises != new.promises:
        said.append("promises reloaded")
    engine.reconfigure(new, removed_targets)
    if old.alerting.notifications != new.alerting.notifications:
        notifier = Notifier(new, runtime.store, clock=runtime.clock)
        if runtime.notifier is not None:
            # Closed by the next dispatch run: the run that may still use it has ended by then.
            runtime.retired_notifiers.append(runtime.notifier)
        runtime.notifier = notifier
        said.append("notifications reloaded")
    interval = new.alerting.evaluation_interval
    if interval != old.alerting.evaluation_interval and runtime.scheduler is not None:
        runtime.scheduler.set_periodic_interval("alerts:evaluate", interval)
        said.append(f"alerting.evaluation_interval: {interval:g} s")
    return said


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


def _notify(runtime: Runtime, routing: threading.Lock) -> None:
    while runtime.retired_notifiers:  # dispatch runs one at a time: no run uses a retired one now
        try:
            runtime.retired_notifiers.pop().close()
        except Exception:  # a transport that fails to close must not stop dispatch
            log.exception("closing a replaced notifier failed")
    notifier = runtime.notifier
    if notifier is None:
        return
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
