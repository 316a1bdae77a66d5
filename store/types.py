"""Value types the store hands out, and the seconds <-> milliseconds rule.

The Python API speaks float epoch seconds (what ``time.time()`` and
``Batch.started_at`` give); the tables keep integer epoch milliseconds so
primary keys compare exactly and bucket arithmetic is integer arithmetic.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def to_ms(ts: float) -> int:
    return int(round(ts * 1000.0))


def to_s(ms: int) -> float:
    return ms / 1000.0


def canonical_labels(labels: Mapping[str, str]) -> str:
    """Labels as the one text that identifies them: sorted keys, compact.

    Two samples with the same labels in a different order must map to the
    same series row, so this text is part of the UNIQUE(name, labels) key.
    """
    return json.dumps({str(k): str(v) for k, v in labels.items()}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    id: int
    name: str
    labels: dict[str, str]
    kind: str
    help: str

    def __hash__(self) -> int:  # labels is a dict; the id identifies the series
        return hash(self.id)


@dataclass(frozen=True, slots=True)
class Bucket:
    """One downsampled point: ``ts`` is the bucket start in epoch seconds.

    For ``mode="rate"`` all of min/max/avg/last carry the bucket's rate and
    ``count`` the number of samples that contributed.
    """

    ts: float
    min: float
    max: float
    avg: float
    last: float
    count: int


@dataclass(frozen=True, slots=True)
class SeriesRange:
    series: SeriesInfo
    points: list[Bucket] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SeriesPoints:
    series: SeriesInfo
    points: list[tuple[float, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TargetStatus:
    target: str
    kind: str
    up: bool
    last_attempt: float
    last_success: float | None
    last_error: str | None
    duration: float
    interval: float | None


@dataclass(frozen=True, slots=True)
class Document:
    target: str
    key: str
    ts: float
    body: Any


@dataclass(frozen=True, slots=True)
class Worker:
    worker_id: str
    role: str
    heartbeat_ts: float
    started_ts: float
    info: dict[str, Any]
