"""The bucket cache: a warm refresh returns exactly what a cold one does, on both stores.

Refreshes are simulated with a fake clock, 5 seconds apart, while polls keep
writing, the rollup job runs each minute, retention expires raw samples,
and late samples land inside the rollup grace. Sample values are small
integers, so sums (and so averages) are exact whatever order SQL adds them in.
"""
from __future__ import annotations

import threading

import pytest

from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Sample
from dashboards import bucket_cache
from dashboards.bucket_cache import BucketCache, agree_until
from dashboards.fetch import Fetch
from dashboards.grid import aligned_grid, grid_width, min_width, rate_points
from dashboards.timerange import parse_search
from store import Store
from store.aggregate import H1, M1, RAW, make_grid
from store.config import Retention

T = 1_700_003_000.0  # not on any bucket edge
STEP = 15.0
CONFIG = "targets: []\n"


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def poll(i: int) -> list[Sample]:
    return [Sample("g", float(i % 7), {"s": "a"}), Sample("g", float(i % 5), {"s": "b"}),
            Sample("c_total", float((3 * i) % 600), {"s": "a"}, "counter")]  # a counter reset every 200 polls


def make(url: str, clock: Clock, retention: Retention | None = None):
    store = Store(url, retention=retention or Retention(), clock=clock)
    rt = build_runtime(parse_config(CONFIG, env={}), role="web", store=store, clock=clock)
    store.migrate()
    return rt


def fill(rt, hours: float, until: float) -> int:
    """Polls every minute up to two hours before ``until``, every 15 s after (as a bench-sized history)."""
    n = 0
    ts = until - hours * 3600
    while ts <= until:
        rt.store.write_samples(ts, poll(n))
        ts += 60.0 if ts < until - 7200 else STEP
        n += 1
    rt.store.rollup(until)
    return n


def read(rt, rng: str, cache: BucketCache) -> dict:
    f = Fetch(rt, parse_search(f"?range={rng}", rt.clock()))
    f.cache = cache
    return {(m, mode): [(r.series.labels["s"], r.points) for r in f.ranges(m, mode)]
            for m, mode in (("g", "value"), ("c_total", "rate"), ("c_total", "value"))}


def cold(rt, rng: str) -> dict:
    return read(rt, rng, BucketCache(max_entries=0))


RETENTION = Retention(raw=3 * 3600.0, minute=30 * 86400.0, hour=365 * 86400.0)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, pg_server, tmp_path_factory):
    """26 hours of polls, written once per store kind; each test changes a copy of its own."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'lookout.db'}"
    else:
        url = pg_server.create("lookout_bucket_cache")
    rt = make(url, Clock(T), RETENTION)
    n = fill(rt, 26, T)
    rt.store.close()  # a PostgreSQL database is cloned only while nobody is connected to it
    yield url, n
    if request.param == "postgresql":
        pg_server.drop(url)


@pytest.fixture
def history(seeded, clone_store_url):
    url, n = seeded
    clock = Clock(T)
    rt = make(clone_store_url(url), clock, RETENTION)
    yield rt, clock, n
    rt.store.close()


RANGES = ["15m", "1h", "6h", "24h"]


def test_a_warm_refresh_equals_a_cold_one_while_polls_rollups_and_retention_go_on(history):
    rt, clock, n = history
    warm = BucketCache()
    for rng in RANGES:
        assert read(rt, rng, warm) == cold(rt, rng)
    for step in range(1, 40):  # 200 s: polls, three rollups, late samples, raw expiring
        clock.now = T + 5 * step
        if step % 3 == 0:
            n += 1
            rt.store.write_samples(clock.now, poll(n))
        if step % 12 == 0:
            rt.store.rollup(clock.now)
            rt.store.apply_retention(clock.now)
        if step % 10 == 5:  # a collection that started 100 s ago is written only now, inside the grace
            rt.store.write_samples(clock.now - 97, [Sample("g", 6.0, {"s": "a"}), Sample("g", 4.0, {"s": "b"})])
        for rng in RANGES:
            assert read(rt, rng, warm) == cold(rt, rng), (step, rng)
    assert warm.stats.hits > warm.stats.misses and warm.stats.buckets_reused > 0


def test_a_late_sample_in_the_previous_bucket_within_the_grace_is_not_missed(history):
    rt, clock, _n = history
    warm = BucketCache()
    read(rt, "1h", warm)
    clock.now = T + 5
    rt.store.write_samples(T - 20, [Sample("g", 1000.0, {"s": "a"})])  # the bucket before the newest
    got = read(rt, "1h", warm)
    assert got == cold(rt, "1h")
    assert max(b.max for b in dict(got[("g", "value")])["a"]) == 1000.0


def test_a_counter_silent_just_before_the_kept_edge_still_counts_its_step_across_the_gap(history):
    rt, clock, _n = history
    f = Fetch(rt, parse_search("?range=1h", T))
    w = grid_width(3600, rate_points(3600, f.sample_interval(), f.points - 1, min_width(3600)))
    edge = (T - 120) // w * w  # where the kept buckets will end
    for k in range(80):  # 20 minutes of polls, none in the bucket before the edge
        ts = T - k * STEP
        if not edge - w <= ts < edge:
            rt.store.write_samples(ts, [Sample("d_total", 1000.0 - 2 * k, {"s": "a"}, "counter")])
    warm = BucketCache()
    f.cache = warm
    f.ranges("d_total", "rate")
    clock.now = T + 5
    f = Fetch(rt, parse_search("?range=1h", clock.now))
    f.cache = warm
    got = f.ranges("d_total", "rate")
    f = Fetch(rt, parse_search("?range=1h", clock.now))
    f.cache = BucketCache(max_entries=0)
    assert got == f.ranges("d_total", "rate")
    after_gap = next(b for b in got[0].points if b.ts >= edge)
    assert after_gap.avg * w == 6 + 2  # 976 -> 982 across the gap, then 982 -> 984


def test_the_newest_bucket_takes_new_samples_on_every_refresh(history):
    rt, clock, n = history
    warm = BucketCache()
    before = dict(read(rt, "24h", warm)[("g", "value")])["a"][-1]
    clock.now = T + 5
    rt.store.write_samples(clock.now, [Sample("g", 500.0, {"s": "a"})])
    after = dict(read(rt, "24h", warm)[("g", "value")])["a"][-1]
    assert after.ts == before.ts and after.count == before.count + 1 and after.max == 500.0
    assert warm.stats.hits == 3  # g, c_total rate and value: all from kept buckets plus the tail


def test_refreshes_five_seconds_apart_share_their_bucket_edges(history):
    rt, clock, _n = history
    first = read(rt, "24h", BucketCache())
    clock.now = T + 5
    second = read(rt, "24h", BucketCache())
    a = [b.ts for b in dict(first[("g", "value")])["a"]]
    b = [b.ts for b in dict(second[("g", "value")])["a"]]
    assert set(a[1:-1]) <= set(b)
    assert all(ts % 540 == 0 for ts in a)  # 9-minute buckets on epoch multiples of 9 minutes


def test_a_cold_read_on_an_aligned_window_is_the_stores_query_range(history):
    rt, _clock, _n = history
    grid = aligned_grid(T - 3600, 60.0)
    start = grid.origin_ms / 1000
    assert make_grid(grid.origin_ms, grid.origin_ms + 3_600_000, 61) == grid
    got = BucketCache().read(rt.store, "g", {}, "value", grid, start + 3600, 3600.0)
    assert got == rt.store.query_range("g", {}, start, start + 3600, points=61)


def test_concurrent_refreshes_from_eight_threads_agree_with_a_cold_read(history):
    rt, clock, _n = history
    warm = BucketCache()
    read(rt, "6h", warm)
    clock.now = T + 5
    expected = cold(rt, "6h")
    results, errors = [], []

    def worker() -> None:
        try:
            for _ in range(5):
                results.append(read(rt, "6h", warm))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(results) == 40 and all(r == expected for r in results)


def test_the_cache_is_bounded_by_entries_and_by_buckets(history):
    rt, _clock, _n = history
    few = BucketCache(max_entries=2)
    read(rt, "1h", few)  # three keys
    assert len(few) == 2
    small = BucketCache(max_buckets=500)
    for rng in RANGES:
        read(rt, rng, small)
    assert 0 < small.total_buckets <= 500


def test_one_cache_per_runtime_shared_by_its_fetches(history):
    rt, _clock, _n = history
    v = parse_search("?range=1h", rt.clock())
    assert Fetch(rt, v).cache is Fetch(rt, v).cache is bucket_cache.for_runtime(rt)


def test_plans_agree_until_the_first_time_they_read_different_tables():
    kept = [(M1, 0, 600_000), (RAW, 600_000, 10**9)]
    now = [(M1, 60_000, 660_000), (RAW, 660_000, 10**9)]  # the 1m watermark moved on a minute
    assert agree_until(kept, now, 60_000) == 600_000
    assert agree_until(kept, kept, 0) > 10**9
    assert agree_until([(H1, 0, 3_600_000)], [(M1, 0, 3_600_000)], 0) == 0


@pytest.mark.parametrize("span,points", [(900, 180), (3600, 240), (21600, 180), (86400, 180), (7 * 86400, 168),
                                         (30 * 86400, 180), (3599.5, 7), (86399, 1000)])
def test_grid_width_is_the_width_the_store_picks(span, points):
    assert grid_width(span, points) * 1000 == make_grid(0, round(span * 1000), points).width_ms
