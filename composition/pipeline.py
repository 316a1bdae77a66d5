"""One collection's way through Lookout: labels, snapshot, store, listeners.

The scheduler calls :meth:`Pipeline.collect` for a target: the batch gets its
target's labels, replaces the target's part of the ``/metrics`` snapshot at
once, and goes to the :class:`~composition.store_writer.StoreWriter`, which
writes it on its own thread. Everything that consumes batches (the alert
engine) registers as a listener and runs once the batch is *in the store*, so
an evaluation never judges a window whose samples still wait in memory (after
a store outage it catches up in order instead of paging "no data"). A failure
in one consumer is logged and never stops the others, the writer or the
scheduler.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from collectors.base import Collector
from composition.buffer import WriteBuffer
from composition.store_writer import StoreWriter
from core.masking import mask
from core.samples import Batch, Sample

log = logging.getLogger("lookout.pipeline")

Listener = Callable[[Batch], None]

# Snapshot key of Lookout's own counters; target names cannot start with "_".
SELF_TARGET = "_self"


def masked(value: Any, mask_text: Callable[[str], str]) -> Any:
    """``value`` (a document: dicts, lists, scalars) with every string, keys too, through ``mask_text``.

    Builds new containers and leaves ``value`` alone. Anything that is not JSON by itself
    is stored as its ``str()`` (the store's ``json.dumps(default=str)``), so it is masked as that.
    About 2 ms for 3,000 strings, a large PostgreSQL poll's documents (docs/RELIABILITY.md).
    """
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {(mask_text(k) if isinstance(k, str) else k): masked(v, mask_text) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v, mask_text) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_text(str(value))


class Pipeline:
    def __init__(self, store: Any, snapshot: Any, *, secrets: frozenset[str] = frozenset(),
                 target_labels: dict[str, dict[str, str]] | None = None,
                 buffer: WriteBuffer | None = None) -> None:
        self.store = store
        self.snapshot = snapshot
        self._set_secrets(secrets)
        self.target_labels = target_labels or {}
        self.listeners: list[Listener] = []
        self.writer = StoreWriter(store, secrets=secrets, buffer=buffer, on_written=self._written)
        self.buffer = self.writer.buffer
        self._lock = threading.Lock()
        # Per target, of its last batch: its labels, the raw samples, {id(raw): labelled}.
        self._last_labelled: dict[str, tuple[dict[str, str], list[Sample], dict[int, Sample]]] = {}

    def _set_secrets(self, secrets: frozenset[str]) -> None:
        self.secrets = secrets
        self._secrets_longest_first = sorted(secrets, key=len, reverse=True)
        # What mask() can change: a secret (3+ chars), a URL's user:password@, a password= pair.
        self._needles = (*(x for x in self._secrets_longest_first if len(x) >= 3), "@")

    def add_listener(self, listener: Listener) -> None:
        self.listeners.append(listener)

    # -- reload -------------------------------------------------------------------
    def reconfigure(self, target_labels: dict[str, dict[str, str]], secrets: frozenset[str]) -> None:
        """A reloaded config's target labels and secrets (callers pass the old secrets too:
        a batch collected before the reload may still carry one)."""
        self.target_labels = target_labels
        self._set_secrets(secrets)
        self.writer.secrets = secrets

    def forget(self, target: str) -> None:
        """A target removed from the config: its series leave /metrics now."""
        self.snapshot.remove(target)
        with self._lock:
            self._last_labelled.pop(target, None)

    def start(self) -> None:
        """Write on the writer thread from now on (the processes that collect call this)."""
        self.writer.start()

    def stop(self) -> None:
        self.writer.stop()

    def collect(self, collector: Collector, interval: float | None = None) -> Batch:
        batch = collector.run()
        self.handle(batch, interval)
        return batch

    def handle(self, batch: Batch, interval: float | None = None) -> None:
        batch.samples, batch.carried = self._labelled(batch)
        if batch.error:
            batch.error = mask(batch.error, self.secrets)
            log.warning("target %s is down: %s", batch.target, batch.error)
        if batch.documents:
            # Documents go to the store as JSON: a probe URL with a ${ENV} value in it must not
            # land there in clear (docs/security.md). New containers: the collector keeps its own.
            batch.documents = masked(batch.documents, self._mask_text)
        self.snapshot.update(batch.target, batch.samples + batch.carried)
        self.writer.submit(batch, interval)
        self.snapshot.update(SELF_TARGET, self._self_samples())

    def _mask_text(self, text: str) -> str:
        # Most strings hold no secret, no URL credential and no "password=": substring tests
        # say so (5x faster than one case-insensitive regex), and only the others take mask().
        if any(n in text for n in self._needles) or "password" in text.lower():
            return mask(text, self._secrets_longest_first)
        return text

    def _written(self, batch: Batch) -> None:
        for listener in self.listeners:
            try:
                listener(batch)
            except Exception:
                log.exception("batch listener %r failed for %s", listener, batch.target)

    # -- reporting --------------------------------------------------------------
    def store_state(self) -> dict[str, Any]:
        """For /api/health and the dashboard: is the store taking writes, and what waits."""
        return self.writer.state()

    def backlog(self) -> int:
        """Batches collected but not yet in the store (alert evaluation waits for them)."""
        return len(self.buffer)

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
        errors, written = self.writer.counters()
        available = self.writer.available
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
        return self.writer.last_error

    @property
    def store_available(self) -> bool:
        return self.writer.available
