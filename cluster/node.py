"""The cluster side of one worker process: what it collects and which roles it leads.

Every worker schedules a job for every target; a job collects only when this
worker owns the target (rendezvous over the live workers) *and* wins its lease
(compare-and-set in the store). Nothing is added to or removed from the
scheduler at runtime, so a rebalance is just a different answer of
:meth:`may_collect`. A periodic ``tick`` heartbeats, refreshes the live set,
releases the leases this worker no longer owns (a join rebalances within one
tick), triggers an immediate run of newly owned targets whose lease is free and
overdue (a death is picked up as soon as the lease expires, not at the next
slot of the job), drops moved-away targets from this worker's ``/metrics``
snapshot, and re-checks the elections.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url

from cluster import leases as lz
from cluster.assignment import owner
from cluster.election import KEYS, Election
from cluster.membership import Membership

log = logging.getLogger("lookout.cluster")

LEASE_INTERVALS = 1.5  # a dead holder's lease expires this many intervals after its last collection
GAP_INTERVALS = 0.5  # no two collections of a target closer than this, whoever does them
MAX_LAG_INTERVALS = 0.1  # collect only if taking the lease took less than this


def tick_seconds(intervals: list[float]) -> float:
    """Tick often relative to the shortest interval, between 0.25 s and 5 s."""
    return min(5.0, max(0.25, min(intervals, default=15.0) / 4))


class Node:
    def __init__(self, store: Any, worker_id: str, intervals: dict[str, float], snapshot: Any, *,
                 clock: Callable[[], float] = time.time, tick: float | None = None) -> None:
        self.store = store
        self.me = worker_id
        self.intervals = intervals
        self.snapshot = snapshot
        self.clock = clock
        self.tick_seconds = tick or tick_seconds(list(intervals.values()))
        self.membership = Membership(store, worker_id, ttl=4 * self.tick_seconds, clock=clock)
        dsn = make_url(store.url).set(drivername="postgresql").render_as_string(hide_password=False)
        self.elections = {role: Election(dsn, key, role) for role, key in KEYS.items()}
        self.live: list[str] = [worker_id]
        self.held: dict[str, int] = {}  # target -> lease until (ms), as far as this worker knows
        self.soon: Callable[[str], None] | None = None  # set by attach(): run a target's job now
        self._lock = threading.Lock()

    # -- asked by the scheduler and alerting ----------------------------------------
    def owns(self, target: str) -> bool:
        return owner(target, self.live) == self.me

    def may_collect(self, target: str) -> bool:
        if not self.owns(target):
            self.release(target)
            return False
        interval = self.intervals[target]
        now = int(self.clock() * 1000)
        try:
            with self.store.engine.begin() as conn:
                now = int(self.clock() * 1000)  # after waiting for a pooled connection
                won = lz.acquire(conn, target, self.me, now, int(interval * LEASE_INTERVALS * 1000),
                                 int(interval * GAP_INTERVALS * 1000))
        except Exception as exc:  # noqa: BLE001 - store unreachable: keep a lease we still hold
            log.warning("lease of %s: %s", target, exc)
            return self.held.get(target, 0) > now
        with self._lock:
            if won:
                self.held[target] = now + int(interval * LEASE_INTERVALS * 1000)
                # The lease's last_ms is the spacing anchor and the sample's time is
                # when collection starts: an overloaded store that took long to
                # commit would let the two drift apart, so skip this slot instead.
                return self.clock() * 1000 - now <= interval * MAX_LAG_INTERVALS * 1000
            if self.held.get(target, 0) > now:
                return False  # still ours, only too soon after the last collection
            lost = self.held.pop(target, None) is not None
        if lost:
            self.snapshot.remove(target)
        return False

    def leads(self, role: str, fresh: bool = True) -> bool:
        e = self.elections[role]
        return e.check() if fresh else e.is_leader

    def info(self) -> dict[str, Any]:
        with self._lock:
            held = sorted(self.held)
        return {"targets": held, "leads": sorted(r for r, e in self.elections.items() if e.is_leader)}

    # -- periodic ------------------------------------------------------------------------
    def tick(self) -> None:
        try:
            self.membership.beat(self.info())
            self.live = self.membership.live()
            with self.store.engine.connect() as conn:
                current = lz.all_leases(conn)
        except Exception as exc:  # noqa: BLE001 - next tick retries; leases keep their holders
            log.warning("cluster tick: %s", exc)
            return
        now = int(self.clock() * 1000)
        for target, interval in self.intervals.items():
            lease = current.get(target)
            if not self.owns(target):
                if lease is not None and lease.holder == self.me:
                    self.release(target)
                elif target not in self.held:
                    self.snapshot.remove(target)
                continue
            if lease is None or lease.holder == self.me:
                continue
            if target in self.held and lease.until_ms >= now:  # taken over after ours expired
                with self._lock:
                    self.held.pop(target, None)
                self.snapshot.remove(target)
            overdue = now - lease.last_ms >= interval * 1000
            if lease.until_ms < now and overdue and self.soon is not None:
                self.soon(target)  # take over now instead of at this job's next slot
        for role in self.elections:
            self.leads(role)

    def release(self, target: str, why: str = "moved to another worker") -> None:
        """Give up a target's lease now (it moved, or a reload removed it) instead of when it expires."""
        with self._lock:
            had = self.held.pop(target, None) is not None
        if had:
            try:
                with self.store.engine.begin() as conn:
                    lz.release(conn, target, self.me)
            except Exception as exc:  # noqa: BLE001 - it expires by itself
                log.warning("releasing %s: %s", target, exc)
            log.info("target %s %s", target, why)
        self.snapshot.remove(target)

    def stop(self) -> None:
        """Clean exit: give everything up so the others take over at their next tick."""
        for e in self.elections.values():
            e.resign()
        try:
            with self.store.engine.begin() as conn:
                lz.release_all(conn, self.me)
            self.membership.leave()
        except Exception as exc:  # noqa: BLE001
            log.warning("leaving the cluster: %s", exc)
