"""The values a collection produces: :class:`Sample` and :class:`Batch`.

Collectors produce them; the pipeline, the store and the exporter consume
them. They live in the kernel because two capabilities exchange them.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# A summary is exposed as Prometheus shapes it: ``x{quantile="0.95"}``, ``x_sum`` and
# ``x_count`` are three samples of kind "summary" sharing the family name ``x``; likewise a
# histogram's ``x_bucket{le=...}``, ``x_sum`` and ``x_count`` (an application's, re-exported).
Kind = Literal["gauge", "counter", "summary", "histogram"]


@dataclass(slots=True)
class Sample:
    """One value of one series at collection time.

    ``name`` is the full exposition name: counters of Lookout's own and of
    redis_exporter end in ``_total``; postgres_exporter-compatible counters keep
    that exporter's names (``pg_stat_database_blks_hit``) so dashboards built
    for it work. ``kind`` tells the store and the exporter how to treat it.

    Treat a sample as a value: never assign to its fields or change its
    labels in place, because carried samples and the exporter's snapshot
    share them between batches; make a new one (``dataclasses.replace``).
    It is not ``frozen``: a frozen dataclass sets each field through
    ``object.__setattr__`` and costs 2.5 us to build against 0.8 us, and a
    PostgreSQL poll builds ~100 fresh samples and the pipeline relabels
    ~1,000 (docs/BENCHMARKS.md). A named tuple builds in 1.0 us but reads its
    fields at half the speed.

    ``value`` None (a NULL column) or NaN means "no value": ``Collector.run()``
    drops such samples, so every sample in a Batch holds a number.
    """

    name: str
    value: float | None
    labels: Mapping[str, str] = field(default_factory=dict)
    kind: Kind = "gauge"
    help: str = ""


@dataclass(slots=True)
class Batch:
    """What one collection of one target produced.

    ``documents`` holds structured data that is not a metric (a blocking pid
    chain, the index audit, top statements with their text): kept as the
    latest document per key for the dashboard, never as metric labels.

    ``carried`` holds the last samples of families that were not due this
    cycle (a 5-minute family on a 15-second target): /metrics keeps showing
    them, but the store does not write the same value again.
    """

    target: str
    kind: str
    started_at: float
    duration: float = 0.0
    up: bool = True
    error: str | None = None
    samples: list[Sample] = field(default_factory=list)
    documents: dict[str, Any] = field(default_factory=dict)
    carried: list[Sample] = field(default_factory=list)
