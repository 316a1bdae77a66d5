"""Worker registration: heartbeats in the store's ``workers`` table.

A worker is live while its heartbeat is younger than ``ttl``. Clocks of the
machines must agree to well under the ttl (NTP), as with any lease scheme.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

ROLE = "worker"


class Membership:
    def __init__(self, store: Any, worker_id: str, *, ttl: float,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.worker_id = worker_id
        self.ttl = ttl
        self.clock = clock

    def beat(self, info: Mapping[str, Any] | None = None) -> None:
        self.store.heartbeat(self.worker_id, ROLE, info)

    def live(self) -> list[str]:
        """Ids of live workers, sorted; always includes this one."""
        cutoff = self.clock() - self.ttl
        ids = {w.worker_id for w in self.store.workers() if w.role == ROLE and w.heartbeat_ts >= cutoff}
        ids.add(self.worker_id)
        return sorted(ids)

    def leave(self) -> None:
        """Deregister at a clean stop, so the others rebalance at once instead of after the ttl."""
        self.store.forget_worker(self.worker_id)
