"""Prometheus' ``histogram_quantile`` on classic buckets, and counter deltas.

``bucket_quantile`` follows promql/quantile.go (``BucketQuantile``) step by
step: buckets sorted by upper bound, the highest must be +Inf (else NaN),
equal bounds coalesced, counts forced monotonic (differences below 1e-12
relative are absorbed), linear interpolation inside the bucket holding the
rank, the lower bound of the first bucket taken as 0 unless its upper bound
is <= 0, and a rank in the +Inf bucket answered with the second-highest
bound.
"""
from __future__ import annotations

import bisect
import math
import sys
from collections.abc import Iterable, Mapping

_TOLERANCE = 1e-12
_MIN_NORMAL = sys.float_info.min


def _almost_equal(a: float, b: float, eps: float) -> bool:
    if a == b:
        return True
    abs_sum = abs(a) + abs(b)
    diff = abs(a - b)
    if a == 0 or b == 0 or abs_sum < _MIN_NORMAL:
        return diff < eps * _MIN_NORMAL
    return diff / min(abs_sum, sys.float_info.max) < eps


def bucket_quantile(q: float, buckets: Iterable[tuple[float, float]]) -> float:
    """``q``-quantile of cumulative ``(upper_bound, count)`` buckets (NaN if undefined)."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    bs = sorted(buckets, key=lambda b: b[0])
    if not bs or not math.isinf(bs[-1][0]) or bs[-1][0] < 0:
        return math.nan
    merged: list[list[float]] = []
    for ub, count in bs:  # coalesce equal bounds
        if merged and merged[-1][0] == ub:
            merged[-1][1] += count
        else:
            merged.append([ub, count])
    prev = merged[0][1]
    for b in merged[1:]:  # force monotonic, keep prev on corrections
        cur = b[1]
        if cur == prev:
            continue
        if _almost_equal(prev, cur, _TOLERANCE) or cur < prev:
            b[1] = prev
            continue
        prev = cur
    if len(merged) < 2:
        return math.nan
    observations = merged[-1][1]
    if observations == 0:
        return math.nan
    rank = q * observations
    counts = [b[1] for b in merged[:-1]]
    idx = bisect.bisect_left(counts, rank)  # first i with count >= rank
    if idx == len(merged) - 1:
        return merged[-2][0]
    if idx == 0 and merged[0][0] <= 0:
        return merged[0][0]
    start, end, count = 0.0, merged[idx][0], merged[idx][1]
    if idx > 0:
        start = merged[idx - 1][0]
        count -= merged[idx - 1][1]
        rank -= merged[idx - 1][1]
    if count == 0:
        return math.nan  # rank 0 in an empty first bucket: Go's 0/0 is NaN, so is Prometheus' answer
    return start + (end - start) * (rank / count)


def deltas(current: Mapping, previous: Mapping | None) -> dict | None:
    """Increase of each counter in ``current`` since ``previous``.

    None on the first poll (no window yet). A reset guard as in PromQL's
    increase(): if any counter of the group went down, the process restarted,
    so the current values are the increase since the restart.
    """
    if previous is None:
        return None
    if any(v < previous.get(k, 0.0) for k, v in current.items()):
        return dict(current)
    return {k: v - previous.get(k, 0.0) for k, v in current.items()}
