"""Ratios and rates computed between two polls, never from totals since start.

Each derived value is either a sample or, when it cannot be computed, a
reason in the ``redis_derived`` document (no lookups in the interval, first
poll, counters reset, no maxmemory). Nothing is divided by zero.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.samples import Sample


@dataclass(frozen=True, slots=True)
class Poll:
    at: float
    hits: float | None
    misses: float | None
    commands: float | None
    evicted: float | None
    used_memory: float | None
    maxmemory: float | None
    clients: float | None
    maxclients: float | None


# (name, metric, help) of the ratios and rates this module produces.
HIT_RATIO = ("hit_ratio", "lookout_redis_keyspace_hit_ratio",
             "Keyspace hits / (hits + misses) over the last poll interval, 0..1.")
OPS = ("ops_per_second", "lookout_redis_ops_per_second", "Commands processed per second over the last poll interval.")
EVICTIONS = ("evictions_per_second", "lookout_redis_evictions_per_second",
             "Keys evicted per second over the last poll interval.")
MEMORY = ("memory_used_ratio", "lookout_redis_memory_used_ratio", "used_memory / maxmemory, 0..1 (none without maxmemory).")
CLIENTS = ("clients_used_ratio", "lookout_redis_clients_used_ratio", "connected_clients / maxclients, 0..1.")


def _delta(now: float | None, before: float | None) -> tuple[float | None, str | None]:
    if now is None or before is None:
        return None, "the server did not report the counter"
    if now < before:
        return None, "counters went back (server restarted or CONFIG RESETSTAT): a new interval starts now"
    return now - before, None


def derive(prev: Poll | None, cur: Poll) -> tuple[list[Sample], dict[str, dict]]:
    samples: list[Sample] = []
    doc: dict[str, dict] = {}

    def put(spec: tuple[str, str, str], value: float | None, reason: str | None, **extra: float) -> None:
        key, metric, help_ = spec
        if value is None:
            doc[key] = {"value": None, "reason": reason, **extra}
        else:
            samples.append(Sample(metric, value, help=help_))
            doc[key] = {"value": value, **extra}

    put(MEMORY, *_ratio(cur.used_memory, cur.maxmemory, "maxmemory is 0 (no memory limit): no ratio"))
    put(CLIENTS, *_ratio(cur.clients, cur.maxclients, "maxclients is unknown"))
    if prev is None:
        first = "first poll: rates and the hit ratio need two polls"
        for spec in (HIT_RATIO, OPS, EVICTIONS):
            put(spec, None, first)
        return samples, doc

    hits, why_h = _delta(cur.hits, prev.hits)
    misses, why_m = _delta(cur.misses, prev.misses)
    if hits is None or misses is None:
        put(HIT_RATIO, None, why_h or why_m)
    elif hits + misses == 0:
        put(HIT_RATIO, None, "no keyspace lookups since the previous poll", hits=0, misses=0)
    else:
        put(HIT_RATIO, hits / (hits + misses), None, hits=hits, misses=misses)

    elapsed = cur.at - prev.at
    for spec, now, before in ((OPS, cur.commands, prev.commands), (EVICTIONS, cur.evicted, prev.evicted)):
        d, why = _delta(now, before)
        if d is not None and elapsed <= 0:
            d, why = None, "no time passed between polls"
        put(spec, None if d is None else d / elapsed, why)
    return samples, doc


def _ratio(part: float | None, whole: float | None, zero_reason: str) -> tuple[float | None, str | None]:
    if part is None:
        return None, "the server did not report the value"
    if not whole:
        return None, zero_reason
    return part / whole, None
