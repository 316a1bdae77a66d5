"""Prometheus' ``histogram_quantile`` over cumulative ``le`` buckets, shared by panels and promises."""
from __future__ import annotations

import math
from collections.abc import Mapping


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """The ``q`` quantile of cumulative ``le`` counts (or rates); None with no observations.

    Linear interpolation inside the bucket, as Prometheus does; a rank in the
    ``+Inf`` bucket answers the highest finite bound.
    """
    items = sorted((le, c) for le, c in buckets.items() if not math.isnan(le))
    if not items or items[-1][1] <= 0:
        return None
    rank = q * items[-1][1]
    prev_le, prev_c = 0.0, 0.0
    for le, c in items:
        if c >= rank:
            if math.isinf(le):
                return prev_le
            if c == prev_c:
                return le
            return prev_le + (le - prev_le) * (rank - prev_c) / (c - prev_c)
        prev_le, prev_c = le, c
    return items[-1][0]
