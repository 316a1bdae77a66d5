from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.samples import Sample
from store import Store
from store.config import Retention
from store.engine import insert_for
from store.schema import meta, samples, samples_1h, samples_1m
from tests.store.conftest import T0

HOUR = 3600.0


def _fill_hours(store: Store, hours: int, name: str = "g") -> None:
    # 15 s samples; value = index within the minute * 10 + minute, a shape
    # whose per-minute min/max/avg/last are easy to state.
    for i in range(int(hours * HOUR / 15)):
        minute, k = divmod(i, 4)
        store.write_samples(T0 + i * 15, [Sample(name, k * 10 + minute % 60)])


def _rows(store: Store, table) -> list[tuple]:
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(table.c.ts))]


def test_rollup_produces_min_max_sum_count_last_per_minute_and_hour(store: Store) -> None:
    _fill_hours(store, 2)

    store.rollup(now=T0 + 3 * HOUR)

    minutes = _rows(store, samples_1m)
    assert len(minutes) == 120
    # minute 7: samples 7, 17, 27, 37
    assert minutes[7][1:] == (int((T0 + 7 * 60) * 1000), 7.0, 37.0, 88.0, 4, 37.0)
    hours = _rows(store, samples_1h)
    assert len(hours) == 2
    # hour 0: minute offsets 0..59 plus 0/10/20/30 each
    _sid, ts, mn, mx, sm, cnt, last = hours[0]
    assert (ts, mn, mx, cnt, last) == (int(T0 * 1000), 0.0, 89.0, 240, 89.0)
    assert sm / cnt == pytest.approx(29.5 + 15.0)


def test_rollup_is_idempotent(store: Store) -> None:
    _fill_hours(store, 2)
    first = store.rollup(now=T0 + 3 * HOUR)
    before = (_rows(store, samples_1m), _rows(store, samples_1h))

    assert store.rollup(now=T0 + 3 * HOUR) == {"1m": 0, "1h": 0}
    with store.engine.begin() as conn:  # forget the watermarks: the upsert must still not double
        conn.execute(meta.delete().where(meta.c.key.like("rollup_%")))
    assert store.rollup(now=T0 + 3 * HOUR) == first
    assert (_rows(store, samples_1m), _rows(store, samples_1h)) == before


def test_rollup_leaves_the_current_minute_and_hour_alone(store: Store) -> None:
    _fill_hours(store, 1)

    store.rollup(now=T0 + 30 * 60 + 200)  # 30 min and a bit: minutes within the grace stay raw

    assert len(_rows(store, samples_1m)) == 31
    assert _rows(store, samples_1h) == []


def test_a_query_older_than_raw_retention_reads_rollups(migrated_store_url, make_store, clock) -> None:
    store = make_store(migrated_store_url, Retention(raw=HOUR, minute=30 * 86400.0, hour=365 * 86400.0))
    _fill_hours(store, 3)
    clock.now = T0 + 3 * HOUR + 300
    end = T0 + HOUR - 1  # rollup rows are whole minutes: end the range where one ends
    from_raw = store.query_range("g", None, T0, end, points=20)

    store.rollup()
    deleted = store.apply_retention()

    assert deleted["raw"] > 0 and store.raw("g", None, T0, T0 + HOUR)[0].points == []
    from_rollups = store.query_range("g", None, T0, end, points=20)
    assert [(b.ts, b.min, b.max, b.last, b.count) for b in from_rollups[0].points] == \
        [(b.ts, b.min, b.max, b.last, b.count) for b in from_raw[0].points]
    assert [b.avg for b in from_rollups[0].points] == pytest.approx([b.avg for b in from_raw[0].points])
    # Finer than a minute is no longer there: the 1m rows are the best answer.
    fine = store.query_range("g", None, T0, end, points=500)
    assert len(fine[0].points) == 60


def test_a_query_spanning_rollups_and_raw_merges_them(migrated_store_url, make_store, clock) -> None:
    store = make_store(migrated_store_url)
    _fill_hours(store, 2)
    clock.now = T0 + 2 * HOUR
    before = store.query_range("g", None, T0, T0 + 2 * HOUR, points=40)

    store.rollup(now=T0 + HOUR + 17 * 60)  # the 1m watermark cuts through a bucket

    after = store.query_range("g", None, T0, T0 + 2 * HOUR, points=40)
    assert [(b.ts, b.min, b.max, b.last, b.count) for b in after[0].points] == \
        [(b.ts, b.min, b.max, b.last, b.count) for b in before[0].points]


def test_increase_counts_a_reset_across_rollups(migrated_store_url, make_store, clock) -> None:
    store = make_store(migrated_store_url, Retention(raw=HOUR, minute=30 * 86400.0, hour=365 * 86400.0))
    for i in range(240):  # four hours, one sample a minute, reset to 0 after two hours
        store.write_samples(T0 + i * 60, [Sample("c_total", float(i % 120), kind="counter")])
    clock.now = T0 + 4 * HOUR + 300
    store.rollup()
    store.apply_retention()

    ((_, inc),) = store.increase("c_total", None, T0, T0 + 4 * HOUR)

    assert inc == 119 + 119


def test_retention_deletes_exactly_what_is_older(migrated_store_url, make_store) -> None:
    store = make_store(migrated_store_url, Retention(raw=HOUR, minute=2 * HOUR, hour=3 * HOUR))
    now = T0 + 10 * HOUR
    for t in (-50 * HOUR, -HOUR - 1, -HOUR, -HOUR + 1):
        store.write_samples(now + t, [Sample("g", 1.0), Sample("h", 2.0)])
    sid = store.select_series("g")[0].id
    with store.engine.begin() as conn:
        for table, keep in ((samples_1m, 2 * HOUR), (samples_1h, 3 * HOUR)):
            rows = [{"series_id": sid, "ts": int((now - keep + d) * 1000), "min": 0, "max": 0,
                     "sum": 0, "count": 1, "last": 0} for d in (-3600, -0.001, 0, 60)]
            conn.execute(insert_for(conn, table), rows)

    assert store.apply_retention(now=now) == {"raw": 4, "1m": 2, "1h": 2}

    with store.engine.connect() as conn:
        left = sorted(conn.execute(select(samples.c.ts).distinct()).scalars())
        assert left == [int((now - HOUR) * 1000), int((now - HOUR + 1) * 1000)]
        for table, keep in ((samples_1m, 2 * HOUR), (samples_1h, 3 * HOUR)):
            assert conn.execute(select(func.min(table.c.ts))).scalar() == int((now - keep) * 1000)
    assert store.apply_retention(now=now) == {"raw": 0, "1m": 0, "1h": 0}
