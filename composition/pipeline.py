"""One collection's way through Lookout: labels, snapshot, store, listeners.

The scheduler calls :meth:`Pipeline.collect` for a target; everything that
consumes batches (the alert engine) registers as a listener. A failure in one
consumer is logged and counted, and never stops the others or the scheduler.

When the store is unavailable (its connection fails, its disk is read-only or
full) batches wait in a bounded :class:`~composition.buffer.WriteBuffer` and are
written oldest first, before any newer batch, once it answers again. The
change of state is logged once each way, not on every batch.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from collectors.base import Collector
from composition.buffer import WriteBuffer
from core.masking import mask
from core.samples import Batch, Sample
from store.availability import store_unavailable

log = logging.getLogger("lookout.pipeline")

Listener = Callable[[Batch], None]

# Snapshot key of Lookout's own counters; target names cannot start with "_".
SELF_TARGET = "_self"
# One flush never holds a collection thread longer than this; the rest waits for the next batch.
FLUSH_SECONDS = 5.0
class Pipeline:
    def __init__(self, store: Any, snapshot: Any, *, secrets: frozenset[str] = frozenset(),
                 target_labels: dict[str, dict[str, str]] | None = None,
                 buffer: WriteBuffer | None = None) -> None:
        self.store = store
        self.snapshot = snapshot
        self.secrets = secrets
        self.target_labels = target_labels or {}
        self.listeners: list[Listener] = []
        self.buffer = buffer or WriteBuffer()
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._store_errors = 0
        self._store_written = 0
        self._last_store_error: str | None = None
        self._available = True
        self._unavailable_since: float | None = None
        self._quiet: set[int] = set()  # listeners already reported failing during this outage
        # Per target, of its last batch: its labels, the raw samples, {id(raw): labelled}.
        self._last_labelled: dict[str, tuple[dict[str, str], list[Sample], dict[int, Sample]]] = {}

    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def collect(self, collector: Collector, interval: float | None = None) -> Batch:
        batch = collector.run()
        self.handle(batch, interval)
        return batch

    def handle(self, batch: Batch, interval: float | None = None) -> None:
        batch.samples, batch.carried = self._labelled(batch)
        if batch.error:
            batch.error = mask(batch.error, self.secrets)
            log.warning("target %s is down: %s", batch.target, batch.error)
        self.snapshot.update(batch.target, batch.samples + batch.carried)
        if len(self.buffer):
            self._keep(batch, interval)  # behind the older ones, never before them
            self._flush()
        elif self._write(batch, interval) is None:
            self._keep(batch, interval)
        for listener in self.listeners:
            try:
                listener(batch)
            except Exception as exc:  # noqa: BLE001 - one consumer never breaks the others
                self._listener_failed(listener, batch, exc)
        self.snapshot.update(SELF_TARGET, self._self_samples())

    # -- store writes -----------------------------------------------------------
    def _write(self, batch: Batch, interval: float | None) -> int | None:
        """Samples written, 0 if the batch itself was refused, None if the store is unavailable."""
        try:
            written = self.store.write_batch(batch, interval=interval)
        except Exception as exc:  # noqa: BLE001 - the store failing must not stop collection
            error = mask(f"{exc.__class__.__name__}: {exc}", self.secrets)
            with self._lock:
                self._store_errors += 1
                self._last_store_error = error
            if store_unavailable(exc):
                self._set_available(False, error)
                return None
            log.error("store refused the batch of %s (dropped): %s", batch.target, error)
            return 0
        with self._lock:
            self._store_written += written
        return written

    def _keep(self, batch: Batch, interval: float | None) -> None:
        dropped = self.buffer.append(batch, interval)
        if dropped:
            log.warning("store buffer full (%d batches): dropped the %d oldest", len(self.buffer), dropped)

    def _flush(self) -> None:
        """Write buffered batches oldest first; one thread at a time, others just queue."""
        if not self._flush_lock.acquire(blocking=False):
            return
        flushed, deadline = 0, time.monotonic() + FLUSH_SECONDS
        try:
            while time.monotonic() < deadline and (head := self.buffer.peek()) is not None:
                if self._write(*head) is None:
                    return
                self.buffer.pop(head[0])
                flushed += 1
        finally:
            self._flush_lock.release()
            if flushed:
                log.info("store: wrote %d buffered batches, %d still waiting", flushed, len(self.buffer))
        if not len(self.buffer):
            self._set_available(True, None)

    def _set_available(self, ok: bool, error: str | None) -> None:
        with self._lock:
            changed, self._available = self._available != ok, ok
            if changed:
                self._unavailable_since = None if ok else time.time()
                self._quiet.clear()
        if changed and ok:
            log.warning("store is available again; buffered batches written")
        elif changed:
            log.error("store is unavailable, buffering batches in memory (up to %d batches / %d MiB): %s",
                      self.buffer.max_batches, self.buffer.max_bytes // 2**20, error)

    def _listener_failed(self, listener: Listener, batch: Batch, exc: Exception) -> None:
        if self._available:
            log.exception("batch listener %r failed for %s", listener, batch.target)
            return
        with self._lock:
            first = id(listener) not in self._quiet
            self._quiet.add(id(listener))
        if first:  # the store outage is the cause: say it once, not every batch
            log.warning("batch listener %r fails while the store is unavailable: %s: %s", listener,
                        exc.__class__.__name__, mask(str(exc).splitlines()[0] if str(exc) else "", self.secrets))

    # -- reporting --------------------------------------------------------------
    def store_state(self) -> dict[str, Any]:
        """For /api/health and the dashboard: is the store taking writes, and what waits."""
        stats = self.buffer.stats()
        with self._lock:
            return {"available": self._available, "unavailable_since": self._unavailable_since,
                    "last_error": None if self._available else self._last_store_error,
                    "buffered_batches": stats.batches, "buffered_bytes": stats.bytes,
                    "dropped_batches_total": stats.dropped_batches}

    def _labelled(self, batch: Batch) -> tuple[list[Sample], list[Sample]]:
        """The batch's fresh and carried samples with the target's labels added.

        Labels the collector set win over config labels, as with Prometheus'
        honor_labels: a collector knows better what its series are. A carried
        sample is the very object an earlier batch of the target brought (a
        PostgreSQL poll carries ~1,000 of them), so its labelled copy is taken
        from the previous batch instead of being built again (docs/BENCHMARKS.md).
        """
        extra = {**self.target_labels.get(batch.target, {}), "target": batch.target}
        raw = batch.samples + batch.carried
        old_extra, kept, seen = self._last_labelled.get(batch.target, (None, [], {}))
        if old_extra != extra:
            seen = {}
        # An id in `seen` is one of the last batch's raw samples, which `kept` keeps alive,
        # so no other object can have it now.
        get = seen.get
        out = [get(id(s)) or Sample(s.name, s.value, {**extra, **s.labels}, s.kind, s.help) for s in raw]
        with self._lock:
            self._last_labelled[batch.target] = (extra, raw, dict(zip(map(id, raw), out, strict=True)))
        n = len(batch.samples)
        return out[:n], out[n:]

    def _self_samples(self) -> list[Sample]:
        stats = self.buffer.stats()
        with self._lock:
            errors, written, available = self._store_errors, self._store_written, self._available
        return [
            Sample("lookout_store_write_errors_total", errors, kind="counter",
                   help="Batch writes to the store that failed (retried later when the store was unavailable)."),
            Sample("lookout_store_samples_written_total", written, kind="counter",
                   help="Samples written to the store."),
            Sample("lookout_store_available", 1.0 if available else 0.0,
                   help="1 if the last store write succeeded, 0 while batches are buffered in memory."),
            Sample("lookout_store_buffered_batches", stats.batches,
                   help="Batches waiting in memory for the store to come back."),
            Sample("lookout_store_buffered_bytes", stats.bytes,
                   help="Estimated memory held by batches waiting for the store."),
            Sample("lookout_store_dropped_batches_total", stats.dropped_batches, kind="counter",
                   help="Oldest buffered batches dropped because the buffer bound was reached."),
            Sample("lookout_store_dropped_samples_total", stats.dropped_samples, kind="counter",
                   help="Samples in the buffered batches that were dropped."),
        ]

    @property
    def last_store_error(self) -> str | None:
        return self._last_store_error

    @property
    def store_available(self) -> bool:
        return self._available
