"""Batches waiting for the store while it is unavailable: bounded, in order.

When the store cannot be written (PostgreSQL gone, SQLite on a read-only or
full disk), the pipeline keeps each batch here instead of losing it, and
writes them back oldest first before any new batch once the store answers.
The buffer is bounded by count and by an estimate of bytes; past either bound
the *oldest* batch is dropped and counted, so an outage longer than the
buffer loses its beginning, never the present::

    buf = WriteBuffer(max_batches=2, max_bytes=10**6)
    buf.append(b1, 15.0); buf.append(b2, 15.0); buf.append(b3, 15.0)
    buf.stats().dropped_batches  # 1: b1 is gone, b2 and b3 wait
"""
from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass

from core.samples import Batch

# of them, and a batch of a few hundred samples is ~50 kB of Python objects.
MAX_BATCHES = 10_000
MAX_BYTES = 128 * 1024 * 1024
# Python object overhead of a Sample (dataclass with slots, float, dict).
_SAMPLE_OVERHEAD = 200


def estimate_bytes(batch: Batch) -> int:
    """Rough in-memory size of a batch: cheap, and an over- rather than an under-estimate."""
    size = 500
    for s in (*batch.samples, *batch.carried):
        size += _SAMPLE_OVERHEAD + len(s.name) + len(s.help) + sum(len(k) + len(v) + 100 for k, v in s.labels.items())
    if batch.documents:
        size += 2 * len(json.dumps(batch.documents, default=str))
    return size


@dataclass(frozen=True)
class BufferStats:
    batches: int
    bytes: int
    dropped_batches: int
    dropped_samples: int


class WriteBuffer:
    """A thread-safe FIFO of (batch, interval, size) with count and byte bounds."""

    def __init__(self, max_batches: int = MAX_BATCHES, max_bytes: int = MAX_BYTES) -> None:
        if max_batches < 1 or max_bytes < 1:
            raise ValueError("buffer bounds must be positive")
        self.max_batches = max_batches
        self.max_bytes = max_bytes
        self._items: deque[tuple[Batch, float | None, int]] = deque()
        self._bytes = 0
        self._dropped = 0
        self._dropped_samples = 0
        self._lock = threading.Lock()

    def append(self, batch: Batch, interval: float | None) -> int:
        """Keep ``batch``; returns how many older batches were dropped to make room."""
        size = estimate_bytes(batch)
        dropped = 0
        with self._lock:
            self._items.append((batch, interval, size))
            self._bytes += size
            # Always keep the newest batch, even alone over the byte bound.
            while len(self._items) > 1 and (len(self._items) > self.max_batches or self._bytes > self.max_bytes):
                old, _, old_size = self._items.popleft()
                self._bytes -= old_size
                self._dropped += 1
                self._dropped_samples += len(old.samples)
                dropped += 1
        return dropped

    def peek(self) -> tuple[Batch, float | None] | None:
        with self._lock:
            if not self._items:
                return None
            batch, interval, _ = self._items[0]
            return batch, interval

    def pop(self, batch: Batch) -> None:
        """Remove ``batch`` if it is still the head (it may have been dropped meanwhile)."""
        with self._lock:
            if self._items and self._items[0][0] is batch:
                _, _, size = self._items.popleft()
                self._bytes -= size

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def stats(self) -> BufferStats:
        with self._lock:
            return BufferStats(len(self._items), self._bytes, self._dropped, self._dropped_samples)
