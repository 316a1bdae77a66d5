"""Builds the parts of one Lookout process from a validated Config.

Nothing here starts threads: ``start()`` does, and only for the roles that
own the schedule. Clock and store are injectable so tests pass their own.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from collectors.registry import collector_for
from composition.config import Config
from composition.pipeline import Pipeline
from composition.scheduler import Scheduler
from dashboards.bucket_cache import BucketCache
from exporter.snapshot import Snapshot
from store import Store

if TYPE_CHECKING:
    from alerts.engine import AlertEngine
    from alerts.notify.notifier import Notifier
    from cluster.node import Node
    from composition.reload import Reloader
    from demo.runner import Demo

log = logging.getLogger("lookout")

ROLES = ("all", "web", "worker")


@dataclass
class Runtime:
    config: Config
    role: str
    store: Store
    snapshot: Snapshot
    pipeline: Pipeline
    scheduler: Scheduler | None
    clock: Callable[[], float] = time.time
    # Attached by composition.alerting / .demo / .clustering; None where the role has none.
    alert_engine: AlertEngine | None = None
    notifier: Notifier | None = None
    demo: Demo | None = None
    cluster: Node | None = None
    # Notifiers a reload replaced, closed by the next dispatch run (composition/alerting.py).
    retired_notifiers: list[Notifier] = field(default_factory=list)
    # The file this process was started from: what a reload re-reads (None: reload refused).
    config_path: Path | None = None
    reloader: Reloader | None = None
    # Completed dashboard buckets, shared by the page callbacks of this process.
    bucket_cache: BucketCache = field(default_factory=BucketCache)
    # Run before the scheduler starts / after it stopped (e.g. the embedded demo servers).
    before_start: list[Callable[[], None]] = field(default_factory=list)
    after_stop: list[Callable[[], None]] = field(default_factory=list)

    @property
    def collects(self) -> bool:
        return self.role in ("all", "worker")

    def start(self) -> None:
        for hook in self.before_start:
            hook()
        if self.collects:
            self.pipeline.start()  # store writes leave the collection threads from here on
        if self.scheduler is not None:
            self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown()
        self.pipeline.stop()  # writes what still waits, for a few seconds at most
        for hook in reversed(self.after_stop):
            try:
                hook()
            except Exception:
                log.exception("shutdown hook %r failed", hook)
        self.store.close()


def build_runtime(config: Config, *, role: str = "all", store: Store | None = None,
                  clock: Callable[[], float] = time.time, config_path: str | Path | None = None) -> Runtime:
    """``config_path``: the file ``config`` was loaded from, which a reload re-reads (composition/reload.py)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    store = store or Store(config.store_url(), retention=config.store.retention, clock=clock)
    store.migrate()
    snapshot = Snapshot()
    pipeline = Pipeline(store, snapshot, secrets=config.secret_values,
                        target_labels={t.name: dict(t.labels) for t in config.targets})
    scheduler = None
    if role in ("all", "worker"):
        collectors = [collector_for(t) for t in config.targets]
        scheduler = Scheduler(collectors, pipeline, store, role=role, clock=clock)
    runtime = Runtime(config=config, role=role, store=store, snapshot=snapshot, pipeline=pipeline,
                      scheduler=scheduler, clock=clock,
                      config_path=Path(config_path) if config_path is not None else None)
    if role == "worker":
        # Several workers on one PostgreSQL store; a no-op on SQLite.
        from composition import clustering
        clustering.attach(runtime)
    from composition import alerting, demo
    alerting.attach(runtime)
    demo.attach(runtime)
    from composition import reload
    reload.attach(runtime)
    return runtime
