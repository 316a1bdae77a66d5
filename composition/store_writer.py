"""Batches to the store, on a thread of their own, never on a collection thread.

Every batch goes into the bounded :class:`~composition.buffer.WriteBuffer`
and one writer thread writes the buffer oldest first; after each batch is
written its listeners run (the alert engine reads what was just written).
A collection never waits for the store: a store that refuses connections, a
read-only or full disk, and a store that *hangs* (SIGSTOP, a stuck failover,
a partition without RST) all leave collection running and the batches
waiting within the buffer's bound.

A write that has not returned after ``write_timeout`` seconds marks the store
unavailable while it still hangs, so ``/api/health``, ``/metrics`` and the
dashboard say so within one interval. Python cannot cancel the hung call; the
store's own timeouts (store/engine.py: connect, statement, lock, TCP user
timeout) end it eventually, and writing resumes in order.

Without :meth:`start` (tests, tools), :meth:`submit` writes inline, as before.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from composition.buffer import WriteBuffer
from core.masking import mask
from core.samples import Batch
from store.availability import store_unavailable

log = logging.getLogger("lookout.pipeline")

WRITE_TIMEOUT = 5.0  # a write this late marks the store unavailable (it may still finish)
RETRY_MAX = 5.0      # back-off between attempts while the store is unavailable
DRAIN_ON_STOP = 5.0  # at shutdown, write what waits for at most this long


class StoreWriter:
    def __init__(self, store: Any, *, secrets: frozenset[str] = frozenset(), buffer: WriteBuffer | None = None,
                 on_written: Callable[[Batch], None] | None = None, write_timeout: float = WRITE_TIMEOUT) -> None:
        self.store = store
        self.secrets = secrets
        self.buffer = buffer or WriteBuffer()
        self.on_written = on_written or (lambda _b: None)
        self.write_timeout = write_timeout
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._errors = 0
        self._written = 0
        self._last_error: str | None = None
        self._available = True
        self._unavailable_since: float | None = None
        self._writing_since: float | None = None  # monotonic start of the write under way

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="lookout-store-writer", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(DRAIN_ON_STOP + self.write_timeout)

    # -- the way in ---------------------------------------------------------------
    def submit(self, batch: Batch, interval: float | None) -> None:
        dropped = self.buffer.append(batch, interval)
        if dropped:
            log.warning("store buffer full (%d batches): dropped the %d oldest", len(self.buffer), dropped)
        if self._thread is not None:
            self._wake.set()
        else:
            self.drain(deadline=time.monotonic() + DRAIN_ON_STOP)

    def _loop(self) -> None:
        backoff = 0.25
        while not self._stopping.is_set():
            self._wake.wait(1.0 if self._available else backoff)
            self._wake.clear()
            if self.drain():
                backoff = 0.25
            else:
                backoff = min(backoff * 2, RETRY_MAX)
        self.drain(deadline=time.monotonic() + DRAIN_ON_STOP)

    def drain(self, deadline: float | None = None) -> bool:
        """Write what waits, oldest first; False when the store is unavailable. One drainer at a time."""
        if not self._drain_lock.acquire(blocking=False):
            return True
        flushed = 0
        try:
            while (head := self.buffer.peek()) is not None:
                if deadline is not None and time.monotonic() > deadline:
                    break
                batch, interval = head
                written = self._write(batch, interval)
                if written is None:
                    return False
                self.buffer.pop(batch)
                flushed += 1
                self.on_written(batch)
        finally:
            self._drain_lock.release()
            if flushed > 1 or (flushed and not self._available):
                log.info("store: wrote %d buffered batches, %d still waiting", flushed, len(self.buffer))
        if not len(self.buffer):
            self._set_available(True, None)
        return True

    def _write(self, batch: Batch, interval: float | None) -> int | None:
        """Samples written, 0 if the batch itself was refused, None if the store is unavailable."""
        with self._lock:
            self._writing_since = time.monotonic()
        try:
            written = self.store.write_batch(batch, interval=interval)
        except Exception as exc:  # noqa: BLE001 - the store failing must not stop the writer
            error = mask(f"{exc.__class__.__name__}: {exc}", self.secrets)
            with self._lock:
                self._errors += 1
                self._last_error = error
            if store_unavailable(exc):
                self._set_available(False, error)
                return None
            log.error("store refused the batch of %s (dropped): %s", batch.target, error)
            return 0
        finally:
            with self._lock:
                self._writing_since = None
        with self._lock:
            self._written += written
        return written

    # -- availability -------------------------------------------------------------
    def _hung(self) -> str | None:
        with self._lock:
            since = self._writing_since
        if since is not None and time.monotonic() - since > self.write_timeout:
            return f"the store has not answered a write for {time.monotonic() - since:.0f}s"
        return None

    @property
    def available(self) -> bool:
        hung = self._hung()
        if hung is not None:
            self._set_available(False, hung)
        return self._available

    def _set_available(self, ok: bool, error: str | None) -> None:
        with self._lock:
            changed, self._available = self._available != ok, ok
            if changed:
                self._unavailable_since = None if ok else time.time()
            if error is not None:
                self._last_error = error
        if changed and ok:
            log.warning("store is available again; buffered batches written")
        elif changed:
            log.error("store is unavailable, buffering batches in memory (up to %d batches / %d MiB): %s",
                      self.buffer.max_batches, self.buffer.max_bytes // 2**20, error)

    def state(self) -> dict[str, Any]:
        """For /api/health and the dashboard: is the store taking writes, and what waits."""
        available = self.available
        stats = self.buffer.stats()
        with self._lock:
            return {"available": available, "unavailable_since": self._unavailable_since,
                    "last_error": None if available else self._last_error,
                    "buffered_batches": stats.batches, "buffered_bytes": stats.bytes,
                    "dropped_batches_total": stats.dropped_batches}

    def counters(self) -> tuple[int, int]:
        with self._lock:
            return self._errors, self._written

    @property
    def last_error(self) -> str | None:
        return self._last_error
