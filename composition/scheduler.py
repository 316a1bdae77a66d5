"""APScheduler 3 wiring: one job per target, plus store maintenance.

Each target job has ``max_instances=1`` and ``coalesce=True`` so a slow
target never runs twice at once and never queues a backlog, and a
``misfire_grace_time`` of half its interval. Collector.run() bounds each
collection by the target's timeout (shorter than the interval), so an
executor thread is never held longer than that: a hung target cannot starve
the others. Nothing here starts at import; ``start()`` is called by the
process that owns the schedule (role all or worker), never by a web worker.

A config reload changes the targets while running (:meth:`Scheduler.apply`):
an unchanged target keeps its job and its collector (their state, their next
run), a changed one gets a new collector and runs at once, a removed one's job
goes. A collector replaced while it collects is closed when that collection
ends, and its batch is dropped: it was made with the old config.
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
        # Replaced whole, never changed in place: jobs read it without the lock.
        self.collectors = {c.target.name: c for c in collectors}
        self.pipeline = pipeline
        self.store = store
        self.role = role
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.clock = clock
        self._maintenance_lock = threading.Lock()
        self._targets_lock = threading.Lock()  # collectors, _busy and _retired change together
        self._busy: dict[int, Collector] = {}  # id -> collector collecting right now
        self._retired: set[int] = set()  # ids of busy collectors a reload replaced: closed when done
        # Enough threads for every target at once plus the maintenance jobs.
        # rollup, retention, heartbeat, alerts:evaluate/dispatch/prune, cluster:tick, and one spare
        workers = max(4, len(self.collectors) + 8)
        self._threads = workers  # grows with the targets a reload adds (_executor_for_new)
        self._extra_executors = 0
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

    def set_periodic_interval(self, job_id: str, seconds: float) -> bool:
        """Run a periodic job every ``seconds`` from now on; False if there is no such job."""
        found = False
        for i, (jid, func, old) in enumerate(self._periodic):
            if jid == job_id:
                found = True
                if old != seconds:
                    self._periodic[i] = (jid, func, seconds)
                    if self._started:
                        self._sched.modify_job(job_id, misfire_grace_time=max(1, int(seconds / 2)))
                        self._sched.reschedule_job(job_id, trigger=IntervalTrigger(seconds=seconds))
        return found

    # -- jobs ---------------------------------------------------------------
    def collect(self, name: str) -> None:
        if name not in self.collectors:
            return  # removed by a reload while this run waited
        if self.collect_gate is not None and not self.collect_gate(name):
            return  # another worker collects it (cluster/)
        with self._targets_lock:
            collector = self.collectors.get(name)
            if collector is None:
                return
            self._busy[id(collector)] = collector
        try:
            batch = collector.run()
            if self.collectors.get(name) is collector:
                self.pipeline.handle(batch, collector.target.interval)
            else:
                log.info("dropped a batch of %s collected with the config before the reload", name)
        except Exception:
            log.exception("collection of %s failed unexpectedly", name)
        finally:
            self._done(name, collector)

    def _done(self, name: str, collector: Collector) -> None:
        with self._targets_lock:
            self._busy.pop(id(collector), None)
            retired = id(collector) in self._retired
            self._retired.discard(id(collector))
            gone = name not in self.collectors
        if retired:
            _close(collector)
        if gone:
            # A reload removed the target while this ran: its batch may have reached /metrics after the removal.
            self.pipeline.forget(name)

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

    # -- reload -----------------------------------------------------------------
    def apply(self, added: Sequence[Collector], changed: Sequence[Collector], removed: Sequence[str]) -> None:
        """Targets of a reloaded config: new collectors for added and changed targets, removed ones gone.

        Every other target keeps its collector and its job untouched. Changed and added targets
        are collected at once. The pipeline forgets a removed target (its /metrics series go).
        """
        new = {c.target.name: c for c in (*added, *changed)}
        with self._targets_lock:
            old = self.collectors
            collectors = {n: c for n, c in old.items() if n not in removed}
            collectors.update(new)
            self.collectors = collectors
            replaced = [old[n] for n in (*removed, *new) if n in old]
            close_now = [c for c in replaced if id(c) not in self._busy]
            self._retired.update(id(c) for c in replaced if id(c) in self._busy)
        if self._started:
            now = datetime.fromtimestamp(self.clock(), tz=UTC)
            for name in removed:
                if self._sched.get_job(f"collect:{name}") is not None:
                    self._sched.remove_job(f"collect:{name}")
            executor = self._executor_for_new()
            for c in (*added, *changed):
                job = self._sched.get_job(f"collect:{c.target.name}")
                if job is None:
                    self._add_collect_job(c.target.name, c.target.interval, now, executor)
                    continue
                old_c = old.get(c.target.name)
                if old_c is not None and old_c.target.interval != c.target.interval:
                    self._sched.modify_job(job.id, misfire_grace_time=max(1, int(c.target.interval / 2)))
                    self._sched.reschedule_job(job.id, trigger=self._trigger(c.target.interval))
                self._sched.modify_job(job.id, next_run_time=now)
        for c in close_now:
            _close(c)
        for name in removed:
            self.pipeline.forget(name)

    def _executor_for_new(self) -> str:
        """The executor for jobs a reload adds: the default one while it has a thread per target."""
        needed = len(self.collectors) + 8
        if needed <= self._threads:
            return "default"
        self._extra_executors += 1
        alias = f"reload-{self._extra_executors}"
        self._sched.add_executor(ThreadPoolExecutor(max_workers=needed - self._threads), alias)
        self._threads = needed
        return alias

    @staticmethod
    def _trigger(interval: float) -> IntervalTrigger:
        return IntervalTrigger(seconds=interval, jitter=min(1.0, interval * 0.05))

    def _add_collect_job(self, name: str, interval: float, first: datetime, executor: str = "default") -> None:
        self._sched.add_job(self.collect, self._trigger(interval), args=[name], id=f"collect:{name}",
                            name=f"collect {name}", executor=executor,
                            misfire_grace_time=max(1, int(interval / 2)), next_run_time=first)

    # -- lifecycle ------------------------------------------------------------
    def start(self) -> None:
        if self._started:
            return
        now = self.clock()
        first = datetime.fromtimestamp(now, tz=UTC)
        for name, c in self.collectors.items():
            self._add_collect_job(name, c.target.interval, first)
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
            _close(c)
        log.info("scheduler stopped")


def _close(collector: Collector) -> None:
    try:
        collector.close()
    except Exception as exc:  # noqa: BLE001
        log.warning("closing %s: %s", collector.target.name, exc)
