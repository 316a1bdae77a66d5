"""One collection's way through Lookout: labels, snapshot, store, listeners.

The scheduler calls :meth:`Pipeline.collect` for a target; everything that
consumes batches (the alert engine, later) registers as a listener. A failure
in one consumer is logged and counted, and never stops the others or the
scheduler.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from collectors.base import Batch, Collector, Sample
from core.masking import mask

log = logging.getLogger("lookout.pipeline")

Listener = Callable[[Batch], None]

# Snapshot key of Lookout's own counters; target names cannot start with "_".
SELF_TARGET = "_self"


class Pipeline:
    def __init__(self, store: Any, snapshot: Any, *, secrets: frozenset[str] = frozenset(),
                 target_labels: dict[str, dict[str, str]] | None = None) -> None:
        self.store = store
        self.snapshot = snapshot
        self.secrets = secrets
        self.target_labels = target_labels or {}
        self.listeners: list[Listener] = []
        self._lock = threading.Lock()
        self._store_errors = 0
        self._store_written = 0
        self._last_store_error: str | None = None

    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def collect(self, collector: Collector, interval: float | None = None) -> Batch:
        batch = collector.run()
        self.handle(batch, interval)
        return batch

    def handle(self, batch: Batch, interval: float | None = None) -> None:
        batch.samples = self._labelled(batch, batch.samples)
        batch.carried = self._labelled(batch, batch.carried)
        if batch.error:
            batch.error = mask(batch.error, self.secrets)
            log.warning("target %s is down: %s", batch.target, batch.error)
        self.snapshot.update(batch.target, batch.samples + batch.carried)
        try:
            written = self.store.write_batch(batch, interval=interval)
        except Exception as exc:  # noqa: BLE001 - the store failing must not stop collection
            with self._lock:
                self._store_errors += 1
                self._last_store_error = mask(f"{exc.__class__.__name__}: {exc}", self.secrets)
            log.error("store write for %s failed: %s", batch.target, self._last_store_error)
        else:
            with self._lock:
                self._store_written += written
        for listener in self.listeners:
            try:
                listener(batch)
            except Exception:  # noqa: BLE001 - one consumer never breaks the others
                log.exception("batch listener %r failed for %s", listener, batch.target)
        self.snapshot.update(SELF_TARGET, self._self_samples())

    def _labelled(self, batch: Batch, samples: list[Sample]) -> list[Sample]:
        extra = {**self.target_labels.get(batch.target, {}), "target": batch.target}
        # Labels the collector set win over config labels, as with Prometheus'
        # honor_labels: a collector knows better what its series are.
        return [replace(s, labels={**extra, **s.labels}) for s in samples]

    def _self_samples(self) -> list[Sample]:
        with self._lock:
            errors, written = self._store_errors, self._store_written
        return [
            Sample("lookout_store_write_errors_total", errors, kind="counter",
                   help="Batches that could not be written to the store."),
            Sample("lookout_store_samples_written_total", written, kind="counter",
                   help="Samples written to the store."),
        ]

    @property
    def last_store_error(self) -> str | None:
        return self._last_store_error

