from __future__ import annotations

import time

from sqlalchemy import text

from core.samples import Sample
from store import Store, partitions
from store.config import Retention
from store.schema import migrate

DAY = 86400.0


def _store(url: str, raw: float = 3 * DAY) -> Store:
    store = Store(url, retention=Retention(raw=raw, minute=30 * DAY, hour=60 * DAY))
    store.migrate()
    return store


def test_a_fresh_postgresql_store_partitions_samples_by_day_ahead_of_time(pg_store_url: str) -> None:
    store = _store(pg_store_url)
    try:
        with store.engine.connect() as conn:
            assert partitions.layout(conn) == "partitioned"
            days = sorted(partitions.partitions(conn).values())
        today = int(time.time() * 1000) // partitions.DAY_MS * partitions.DAY_MS
        assert today + partitions.AHEAD_DAYS * partitions.DAY_MS in days and today in days
    finally:
        store.close()


def test_samples_land_in_the_partition_of_their_day(pg_store_url: str) -> None:
    store = _store(pg_store_url)
    try:
        now = time.time()
        store.write_samples(now, [Sample("g", 1.0)])
        with store.engine.connect() as conn:
            name = partitions._day_name(int(now * 1000) // partitions.DAY_MS * partitions.DAY_MS)
            assert conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() == 1
    finally:
        store.close()


def test_an_existing_plain_samples_table_migrates_with_its_rows(pg_store_url: str) -> None:
    store = Store(pg_store_url)
    try:
        migrate(store.engine, target=2)
        now = time.time()
        for age in (0, DAY, 2 * DAY, 1000 * DAY):
            store.write_samples(now - age, [Sample("g", age), Sample("h", age)])
        with store.engine.connect() as conn:
            assert partitions.layout(conn) == "plain"
        store.migrate()
        with store.engine.connect() as conn:
            assert partitions.layout(conn) == "partitioned"
            assert conn.execute(text("SELECT count(*) FROM samples")).scalar() == 8
            assert conn.execute(text(f"SELECT count(*) FROM {partitions.DEFAULT}")).scalar() == 2  # 1000 days old
        assert [p[1] for p in store.raw("g", None, now - 3 * DAY, now + 1)[0].points] == [2 * DAY, DAY, 0]
    finally:
        store.close()


def test_retention_drops_whole_expired_days_instead_of_deleting_rows(pg_store_url: str) -> None:
    store = Store(pg_store_url, retention=Retention(raw=3 * DAY, minute=30 * DAY, hour=60 * DAY))
    try:
        migrate(store.engine, target=2)
        now = time.time()
        for age in (0, 5 * DAY, 6 * DAY):
            store.write_samples(now - age, [Sample("g", age)])
        store.migrate()  # back-fills partitions for the old rows' days
        with store.engine.connect() as conn:
            before = set(partitions.partitions(conn))
        assert store.apply_retention(now=now)["raw"] == 2
        with store.engine.connect() as conn:
            dropped = before - set(partitions.partitions(conn))
            assert len(dropped) >= 2  # the two old days (and any empty day past the horizon)
            assert conn.execute(text("SELECT count(*) FROM samples")).scalar() == 1
    finally:
        store.close()


def test_a_day_whose_rows_sit_in_the_default_partition_still_gets_its_partition(pg_store_url: str) -> None:
    store = _store(pg_store_url)
    try:
        day = int(time.time() * 1000) // partitions.DAY_MS * partitions.DAY_MS + 20 * partitions.DAY_MS
        store.write_samples(day / 1000 + 60, [Sample("g", 1.0)])  # beyond the days made ahead
        with store.engine.begin() as conn:
            partitions._create(conn, day)
            assert conn.execute(text(f"SELECT count(*) FROM {partitions._day_name(day)}")).scalar() == 1
            assert conn.execute(text(f"SELECT count(*) FROM {partitions.DEFAULT}")).scalar() == 0
    finally:
        store.close()


def test_sqlite_keeps_a_plain_samples_table(sqlite_store_url: str) -> None:
    store = _store(sqlite_store_url)
    try:
        with store.engine.connect() as conn:
            assert partitions.layout(conn) == "plain"
        store.write_samples(time.time(), [Sample("g", 1.0)])
        assert store.apply_retention()["raw"] == 0
    finally:
        store.close()
