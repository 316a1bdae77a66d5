"""Samples shaped like what the collectors produce, for the exporter tests."""
from __future__ import annotations

import pytest

from core.samples import Sample
from exporter.snapshot import Snapshot


def target_samples(target: str, *, up: float = 1.0, hits: float = 100.0) -> list[Sample]:
    t = {"target": target}
    return [
        Sample("pg_up", up, t, help="Whether the last scrape of PostgreSQL was able to connect."),
        # postgres_exporter's counter names carry no _total.
        Sample("pg_stat_database_blks_hit", hits, {**t, "datid": "5", "datname": "shop"}, "counter",
               help="Number of times disk blocks were found already in the buffer cache."),
        Sample("pg_stat_database_blks_hit", hits / 2, {**t, "datid": "1", "datname": "postgres"}, "counter",
               help="Number of times disk blocks were found already in the buffer cache."),
        Sample("redis_keyspace_hits_total", 42.0, t, "counter", help="keyspace_hits metric"),
        Sample("lookout_collect_duration_seconds", 0.0123, {**t, "kind": "postgres"},
               help="Wall time of the last collection of the target."),
    ]


@pytest.fixture
def snapshot() -> Snapshot:
    snap = Snapshot(process=False)
    snap.update("db1", target_samples("db1"))
    snap.update("db2", target_samples("db2", up=0.0, hits=7.0))
    return snap
