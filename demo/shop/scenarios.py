"""Incident scenarios the demo can switch on and off at runtime.

Each scenario changes how the shop behaves so that a real signal moves, and
the matching alert fires; switching it off lets the signal recover.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

# name -> what it does (shown in the demo panel and `--scenario` help)
SCENARIOS: dict[str, str] = {
    "cache_stampede": "Redis is flushed every 2 s and product entries live 20 ms: the cache hit rate collapses.",
    "payment_outage": "The payment provider rejects 60 % of payments: the payment failure ratio rises.",
    "slow_query": "The order report loses its index and takes 300 ms: PostgreSQL query mean time and p95 rise "
                  "(the demo's tables are too small for a missing index to hurt by itself, so pg_sleep stands in).",
    "pool_exhaustion": "A leaking batch job holds 7 of the shop's 8 pooled connections and each request holds its "
                       "connection 300 ms longer: the pool runs full and clients wait.",
    "redis_down": "The embedded Redis server is stopped: the redis target goes down, "
                  "the shop serves from the database.",
    "long_lock": "A transaction holds an ACCESS EXCLUSIVE lock on products: sessions block behind it.",
}


@dataclass
class Hooks:
    """Side effects a scenario needs from whoever owns the servers."""

    on_start: Callable[[str], None] = lambda name: None
    on_stop: Callable[[str], None] = lambda name: None


class Scenarios:
    def __init__(self, hooks: Hooks | None = None) -> None:
        self._active: set[str] = set()
        self._lock = threading.Lock()
        self.hooks = hooks or Hooks()

    def active(self, name: str) -> bool:
        return name in self._active

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._active)

    def set(self, name: str, on: bool) -> None:
        if name not in SCENARIOS:
            raise KeyError(f"unknown scenario {name!r} (one of: {', '.join(SCENARIOS)})")
        with self._lock:
            changed = (name in self._active) != on
            (self._active.add if on else self._active.discard)(name)
        if changed:
            (self.hooks.on_start if on else self.hooks.on_stop)(name)

    def describe(self) -> list[dict]:
        return [{"name": n, "active": self.active(n), "description": d} for n, d in SCENARIOS.items()]
