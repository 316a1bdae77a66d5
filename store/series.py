"""Series identity: (name, canonical labels) -> id, and series lookups.

Ids are cached in memory because every write needs them and series are
few and long-lived. The cache is filled only after the creating transaction
commits, so a rolled-back insert can never leave a dangling id behind.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.engine import Connection

from core.samples import Sample
from store.engine import insert_for
from store.schema import series
from store.types import SeriesInfo, canonical_labels

SeriesKey = tuple[str, str]  # (name, canonical labels)
_CHUNK = 200  # keeps IN lists well under SQLite's bound-parameter limit


class SeriesCache:
    def __init__(self) -> None:
        self._ids: dict[SeriesKey, int] = {}
        self._lock = threading.Lock()

    def resolve(self, conn: Connection, wanted: Mapping[SeriesKey, Sample]) -> dict[SeriesKey, int]:
        """Ids for ``wanted``, inserting missing series inside ``conn``'s transaction.

        The caller passes the result to :meth:`remember` once the transaction commits.
        """
        with self._lock:
            found = {k: self._ids[k] for k in wanted if k in self._ids}
        missing = [k for k in wanted if k not in found]
        if not missing:
            return found
        rows = [{"name": k[0], "labels": k[1], "kind": wanted[k].kind, "help": wanted[k].help}
                for k in missing]
        # Another thread or process may create the same series concurrently:
        # DO NOTHING, then read the id whoever inserted it.
        conn.execute(insert_for(conn, series).on_conflict_do_nothing(
            index_elements=[series.c.name, series.c.labels]), rows)
        for i in range(0, len(missing), _CHUNK):
            chunk = missing[i:i + _CHUNK]
            q = select(series.c.id, series.c.name, series.c.labels).where(
                tuple_(series.c.name, series.c.labels).in_(chunk))
            for sid, name, labels in conn.execute(q):
                found[(name, labels)] = sid
        return found

    def remember(self, ids: Mapping[SeriesKey, int]) -> None:
        with self._lock:
            self._ids.update(ids)

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()


def _info(row: Sequence[Any]) -> SeriesInfo:
    sid, name, labels, kind, help_ = row
    return SeriesInfo(id=sid, name=name, labels=json.loads(labels), kind=kind, help=help_)


def select_series(conn: Connection, name: str | None = None,
                  matchers: Mapping[str, str] | None = None) -> list[SeriesInfo]:
    """Series with this name (any name when None) whose labels include ``matchers``.

    Label matching happens in Python: it is exact-match only, series counts
    are in the thousands at most, and it keeps the SQL identical on both
    dialects (no JSON operators).
    """
    q = select(series.c.id, series.c.name, series.c.labels, series.c.kind, series.c.help)
    if name is not None:
        q = q.where(series.c.name == name)
    q = q.order_by(series.c.name, series.c.labels)
    out = [_info(r) for r in conn.execute(q)]
    if matchers:
        want = {str(k): str(v) for k, v in matchers.items()}
        out = [s for s in out if all(s.labels.get(k) == v for k, v in want.items())]
    return out


def metric_names(conn: Connection) -> list[str]:
    return list(conn.execute(select(series.c.name).distinct().order_by(series.c.name)).scalars())


def series_keys(samples: Iterable[Sample]) -> dict[SeriesKey, Sample]:
    out: dict[SeriesKey, Sample] = {}
    for s in samples:
        out[(s.name, canonical_labels(s.labels))] = s  # the last one of a duplicate wins
    return out
