"""Pure helpers shared by the row-to-sample mappers: no I/O here."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from core.samples import Kind, Sample

Column = tuple[str, str, Kind, float, str]


@dataclass
class Ctx:
    """What a mapper may know besides its rows: version, config, clock, memory."""

    version: int
    now: float
    datname: str = ""
    watched: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # survives between polls (deltas)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Result:
    samples: list[Sample] = field(default_factory=list)
    documents: dict[str, Any] = field(default_factory=dict)


def req(value: Any) -> float:
    """A number the query always yields (a NOT NULL expression such as ``now()``)."""
    v = num(value)
    if v is None:
        raise ValueError(f"expected a number from PostgreSQL, got {value!r}")
    return v


def num(value: Any) -> float | None:
    """A float from whatever the driver returned; None for NULL or non-numbers."""
    t = type(value)
    if t is float or t is int:  # nearly every value, as JSON gives them: the fast way first
        return float(value)
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float, Decimal)):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        try:  # a timestamp as JSON gives it: 2024-01-02T03:04:05.123456+00:00
            return dt.datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


def mapped(row: Mapping[str, Any], table: Iterable[Column], labels: Mapping[str, str]) -> list[Sample]:
    """Samples for every column of ``table`` present (and not NULL) in ``row``.

    The samples share one copy of ``labels`` (samples are values: nobody
    changes their labels in place).
    """
    out = []
    labels = dict(labels)
    for column, metric, kind, scale, help_ in table:
        v = row.get(column)
        if v is None:
            continue
        v = num(v)
        if v is None:
            continue
        out.append(Sample(metric, v * scale, labels, kind, help_))
    return out


def ratio(hit_now: float | None, read_now: float | None, prev: tuple[float, float] | None) -> float | None:
    """Hit ratio over the interval since ``prev`` = (hit, read); None without traffic or history."""
    if hit_now is None or read_now is None or prev is None:
        return None
    dh, dr = hit_now - prev[0], read_now - prev[1]
    if dh < 0 or dr < 0 or dh + dr <= 0:  # stats reset or no reads in the interval
        return None
    return dh / (dh + dr)


def jsonable(value: Any) -> Any:
    """Rows as JSON-serialisable values for documents."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
