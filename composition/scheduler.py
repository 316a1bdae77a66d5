"""APScheduler 3 wiring: one job per target, plus store maintenance.

Each target job has ``max_instances=1`` and ``coalesce=True`` so a slow
target never runs twice at once and never queues a backlog, and a
``misfire_grace_time`` of half its interval. Collector.run() bounds each
collection by the target's timeout (shorter than the interval), so an
executor thread is never held longer than that: a hung target cannot starve
the others. Nothing here starts at import; ``start()`` is called by the
process that owns the schedule (role all or worker), never by a web worker.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from collectors.base import Collector
from composition.pipeline import Pipeline

log = logging.getLogger("lookout.scheduler")

HEARTBEAT_SECONDS = 10.0
ROLLUP_SECONDS = 60.0
RETENTION_SECONDS = 3600.0


class Scheduler:
    def __init__(self, collectors: Sequence[Collector], pipeline: Pipeline, store: Any, *,
                 role: str = "all", worker_id: str | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.collectors = {c.target.name: c for c in collectors}
        self.pipeline = pipeline
        self.store = store
        self.role = role
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self._maintenance_lock = threading.Lock()
        # Enough threads for every target at once plus the maintenance jobs.
        # rollup, retention, heartbeat, alerts:evaluate/dispatch/prune, cluster:tick, and one spare
        workers = max(4, len(self.collectors) + 8)
        self._sched = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=workers)},
            job_defaults={"coalesce": True, "max_instances": 1},
            timezone="UTC",
        )
        self._started = False
        self._periodic: list[tuple[str, Callable[[], None], float]] = []
        # Cluster hooks (cluster/node.py), None in a single process: whether to
        # collect a target now, whether to run rollup/retention, heartbeat info.
        self.collect_gate: Callable[[str], bool] | None = None
        self.maintenance_gate: Callable[[], bool] | None = None
        self.heartbeat_info: Callable[[], dict[str, Any]] | None = None

    def add_periodic(self, job_id: str, func: Callable[[], None], seconds: float) -> None:
        """Run ``func`` every ``seconds`` once started (e.g. alert evaluation, dispatch)."""
        self._periodic.append((job_id, func, seconds))
        if self._started:
            self._add_periodic(job_id, func, seconds, datetime.fromtimestamp(self.clock(), tz=UTC))

    def _add_periodic(self, job_id: str, func: Callable[[], None], seconds: float, first: datetime) -> None:
        self._sched.add_job(func, IntervalTrigger(seconds=seconds), id=job_id, name=job_id,
                            next_run_time=first, misfire_grace_time=max(1, int(seconds / 2)))

    # -- jobs ---------------------------------------------------------------
    def collect(self, name: str) -> None:
        if self.collect_gate is not None and not self.collect_gate(name):
            return  # another worker collects it (cluster/)
        collector = self.collectors[name]
        try:
            self.pipeline.collect(collector, interval=collector.target.interval)
        except Exception:
            log.exception("collection of %s failed unexpectedly", name)

    def heartbeat(self) -> None:
        try:
            info = self.heartbeat_info() if self.heartbeat_info else {"targets": sorted(self.collectors)}
            self.store.heartbeat(self.worker_id, self.role, info)
        except Exception as exc:  # noqa: BLE001 - a store outage is reported by /api/health
            log.warning("heartbeat failed: %s", exc)

    def maintain(self, what: str) -> None:
        if self.maintenance_gate is not None and not self.maintenance_gate():
            return  # another worker runs maintenance (cluster/)
        # Rollup and retention both write in bulk: never both at once.
        with self._maintenance_lock:
            try:
                result = self.store.rollup() if what == "rollup" else self.store.apply_retention()
                log.debug("%s: %s", what, result)
            except Exception as exc:  # noqa: BLE001
                log.warning("%s failed: %s", what, exc)

    def collect_soon(self, name: str) -> None:
        """Run a target's job now; its later runs keep the interval from here."""
        if self._started:
            self._sched.modify_job(f"collect:{name}",
                                   next_run_time=datetime.fromtimestamp(self.clock(), tz=UTC))

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        now = self.clock()
        first = datetime.fromtimestamp(now, tz=UTC)
        for name, c in self.collectors.items():
            interval = c.target.interval
            self._sched.add_job(
                self.collect, IntervalTrigger(seconds=interval, jitter=min(1.0, interval * 0.05)),
                args=[name], id=f"collect:{name}", name=f"collect {name}",
                misfire_grace_time=max(1, int(interval / 2)), next_run_time=first,
            )
        self._sched.add_job(self.heartbeat, IntervalTrigger(seconds=HEARTBEAT_SECONDS), id="heartbeat",
                            next_run_time=first, misfire_grace_time=int(HEARTBEAT_SECONDS))
        self._sched.add_job(self.maintain, IntervalTrigger(seconds=ROLLUP_SECONDS), args=["rollup"],
                            id="rollup", misfire_grace_time=int(ROLLUP_SECONDS / 2))
        self._sched.add_job(self.maintain, IntervalTrigger(seconds=RETENTION_SECONDS), args=["retention"],
                            id="retention", misfire_grace_time=int(RETENTION_SECONDS / 2))
        for job_id, func, seconds in self._periodic:
            self._add_periodic(job_id, func, seconds, first)
        self._sched.start()
        self._started = True
        log.info("scheduler started: %d targets", len(self.collectors))

    @property
    def running(self) -> bool:
        return self._started and self._sched.running

    def shutdown(self) -> None:
        """Stop scheduling; running collections finish within their timeout."""
        if not self._started:
            return
        self._sched.shutdown(wait=True)
        self._started = False
        for c in self.collectors.values():
            try:
                c.close()
            except Exception as exc:  # noqa: BLE001
                log.warning("closing %s: %s", c.target.name, exc)
        log.info("scheduler stopped")
