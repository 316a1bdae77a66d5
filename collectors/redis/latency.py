"""LATENCY LATEST, LATENCY HISTOGRAM and SLOWLOG replies -> samples.

LATENCY HISTOGRAM (Redis 7+) gives cumulative per-command buckets since
start; percentiles over the last poll interval come from the difference of
two polls, so a slow hour long ago does not hide today's p99. On Redis 6.2
the command does not exist: the collector says so once in a document and
stops asking.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from core.samples import Sample

QUANTILES = (0.5, 0.95, 0.99)
Histogram = dict[float, float]  # upper bound in microseconds -> cumulative calls


def latency_latest(reply: Any) -> Iterator[Sample]:
    """[[event, last unix time, latest ms, max ms], ...] -> redis_exporter's spike gauges."""
    for row in reply if isinstance(reply, list) else []:
        if not isinstance(row, list) or len(row) < 3:
            continue
        try:
            event, last, latest_ms = str(row[0]), float(row[1]), float(row[2])
        except (TypeError, ValueError):
            continue
        labels = {"event_name": event}
        yield Sample("redis_latency_spike_last", last, labels, help="When the latency spike last occurred.")
        yield Sample("redis_latency_spike_duration_seconds", latest_ms / 1e3, labels,
                     help="Length of the last latency spike in seconds.")


def slowlog(length: Any, last: Any) -> Iterator[Sample]:
    if isinstance(length, int):
        yield Sample("redis_slowlog_length", float(length), help="Entries in the slow log.")
    last_id = duration_us = 0.0
    if isinstance(last, list) and last and isinstance(last[0], list) and len(last[0]) >= 3:
        try:
            last_id, duration_us = float(last[0][0]), float(last[0][2])
        except (TypeError, ValueError):
            pass
    yield Sample("redis_slowlog_last_id", last_id, help="Id of the last slow log entry.")
    yield Sample("redis_last_slow_execution_duration_seconds", duration_us / 1e6,
                 help="Duration of the last slow command in seconds.")


def slow_command(last: Any) -> dict[str, Any] | None:
    """The last slow log entry as a document (command name only: arguments may hold data)."""
    if not (isinstance(last, list) and last and isinstance(last[0], list) and len(last[0]) >= 4):
        return None
    entry = last[0]
    args = entry[3] if isinstance(entry[3], list) else []
    return {"id": entry[0], "started_at": entry[1], "duration_seconds": entry[2] / 1e6 if
            isinstance(entry[2], int) else None, "command": str(args[0]).upper() if args else None}


def parse_histogram(reply: Any) -> dict[str, Histogram]:
    """Flat RESP2 reply [cmd, [calls, n, histogram_usec, [b, c, b, c...]], ...] -> {cmd: buckets}."""
    out: dict[str, Histogram] = {}
    if not isinstance(reply, list):
        return out
    for i in range(0, len(reply) - 1, 2):
        cmd, body = reply[i], reply[i + 1]
        if not isinstance(body, list):
            continue
        fields = dict(zip(body[::2], body[1::2], strict=False))  # an odd tail is no pair
        flat = fields.get("histogram_usec")
        if not isinstance(flat, list):
            continue
        try:
            out[str(cmd)] = {float(b): float(c) for b, c in zip(flat[::2], flat[1::2], strict=False)}
        except (TypeError, ValueError):
            continue
    return out


def merged_delta(now: dict[str, Histogram], before: dict[str, Histogram]) -> Histogram:
    """All commands' calls in the interval as one cumulative histogram."""
    deltas: list[Histogram] = []
    for cmd, buckets in now.items():
        prev = before.get(cmd, {})
        if sum(buckets.values()) < sum(prev.values()):  # CONFIG RESETSTAT: start again
            prev = {}
        d: Histogram = {}
        run_now = run_prev = 0.0
        for bound in sorted(set(buckets) | set(prev)):
            run_now, run_prev = buckets.get(bound, run_now), prev.get(bound, run_prev)
            d[bound] = max(0.0, run_now - run_prev)
        deltas.append(d)
    bounds = sorted({b for d in deltas for b in d})
    total = dict.fromkeys(bounds, 0.0)
    for d in deltas:
        running = 0.0
        for b in bounds:  # carry each command's cumulative count over the others' bounds
            running = d.get(b, running)
            total[b] += running
    return total


def percentiles(hist: Histogram, quantiles: Sequence[float] = QUANTILES) -> dict[float, float]:
    """Upper bucket bound (seconds) holding each quantile; {} when there were no calls."""
    bounds = sorted(hist)
    if not bounds or hist[bounds[-1]] <= 0:
        return {}
    calls = hist[bounds[-1]]
    out = {}
    for q in quantiles:
        need = q * calls
        out[q] = next(b for b in bounds if hist[b] >= need) / 1e6
    return out


_LATENCY_HELP = ("Command latency of all commands: quantiles over the last poll interval (upper bound of "
                 "the LATENCY HISTOGRAM power-of-two bucket); sum and count since start (INFO commandstats).")


def histogram_samples(pcts: dict[float, float], totals: tuple[float, float] | None) -> Iterator[Sample]:
    """``lookout_redis_command_latency_seconds`` as a summary, shaped like a client library's
    summary with a max age: window quantiles, cumulative ``_sum`` (seconds) and ``_count``."""
    for q, seconds in pcts.items():
        yield Sample("lookout_redis_command_latency_seconds", seconds, {"quantile": f"{q:g}"}, "summary",
                     _LATENCY_HELP)
    if totals is not None:
        calls, seconds = totals
        yield Sample("lookout_redis_command_latency_seconds_sum", seconds, {}, "summary", _LATENCY_HELP)
        yield Sample("lookout_redis_command_latency_seconds_count", calls, {}, "summary", _LATENCY_HELP)


def command_totals(commandstats: dict[str, str]) -> tuple[float, float] | None:
    """(calls, seconds) of every command since start, from INFO commandstats; None if it has none."""
    calls = usec = 0.0
    for field, raw in commandstats.items():
        if not field.startswith("cmdstat_"):
            continue
        kv = dict(p.split("=", 1) for p in raw.split(",") if "=" in p)
        try:
            c, u = float(kv["calls"]), float(kv["usec"])
        except (KeyError, ValueError):
            continue
        calls, usec = calls + c, usec + u
    return (calls, usec / 1e6) if calls else None
