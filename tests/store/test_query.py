from __future__ import annotations

import pytest

from core.samples import Sample
from store import Store
from tests.store.conftest import T0


def _fill(store: Store, name: str, values: list[float], step: float = 15.0, labels=None,
          kind: str = "gauge") -> None:
    for i, v in enumerate(values):
        store.write_samples(T0 + i * step, [Sample(name, v, labels or {}, kind=kind)])


def test_select_series_matches_labels_exactly(store: Store) -> None:
    store.write_samples(T0, [Sample("up", 1, {"target": "db", "kind": "postgres"}),
                             Sample("up", 1, {"target": "db2", "kind": "postgres"}),
                             Sample("other", 1, {"target": "db"})])

    assert [s.labels["target"] for s in store.select_series("up", {"kind": "postgres"})] == ["db", "db2"]
    assert [s.name for s in store.select_series(matchers={"target": "db"})] == ["other", "up"]
    assert store.select_series("up", {"target": "d"}) == []
    assert store.metric_names() == ["other", "up"]


def test_downsampling_returns_at_most_n_points_and_keeps_a_spike_and_a_dip(store: Store) -> None:
    values = [10.0] * 480  # two hours at 15 s
    values[123] = 500.0
    values[321] = -7.0
    _fill(store, "g", values)

    (rng,) = store.query_range("g", None, T0, T0 + 2 * 3600, points=50)

    assert 0 < len(rng.points) <= 50
    assert max(b.max for b in rng.points) == 500.0
    assert min(b.min for b in rng.points) == -7.0
    spike = next(b for b in rng.points if b.max == 500.0)
    assert spike.ts <= T0 + 123 * 15 < spike.ts + (rng.points[1].ts - rng.points[0].ts)
    assert sum(b.count for b in rng.points) == 480


def test_a_bucket_reports_min_max_avg_last_and_count(store: Store) -> None:
    _fill(store, "g", [4.0, 1.0, 7.0, 2.0], step=10.0)

    (rng,) = store.query_range("g", None, T0, T0 + 30, points=1)

    assert rng.points == [type(rng.points[0])(ts=T0, min=1.0, max=7.0, avg=3.5, last=2.0, count=4)]


def test_buckets_without_data_are_absent(store: Store) -> None:
    _fill(store, "g", [1.0, 2.0], step=3000.0)

    (rng,) = store.query_range("g", None, T0, T0 + 3000, points=100)

    assert [b.count for b in rng.points] == [1, 1]
    assert rng.points[0].ts == T0 and T0 + 2900 < rng.points[1].ts <= T0 + 3000


def test_increase_treats_a_drop_as_a_counter_reset(store: Store) -> None:
    _fill(store, "c_total", [0, 10, 20, 5, 15], step=60.0, kind="counter")

    ((_, inc),) = store.increase("c_total", None, T0, T0 + 240)
    ((_, rate),) = store.rate("c_total", None, T0, T0 + 240)

    assert inc == 35.0  # 10 + 10 + (reset to 0, then 5) + 10
    assert rate == pytest.approx(35.0 / 240)


def test_rate_mode_gives_the_reset_aware_increase_per_second_of_each_bucket(store: Store) -> None:
    _fill(store, "c_total", [0, 60, 120, 30, 90, 150], step=60.0, kind="counter")

    (rng,) = store.query_range("c_total", None, T0, T0 + 359, points=6, mode="rate")

    # 60 s buckets, one sample each; the first has no predecessor in range,
    # the drop to 30 is a reset, so that step's increase is 30.
    assert [b.ts for b in rng.points] == [T0 + i * 60 for i in range(6)]
    assert [b.last for b in rng.points] == [0.0, 1.0, 1.0, 0.5, 1.0, 1.0]
    assert all(b.min == b.max == b.avg == b.last for b in rng.points)


def test_latest_returns_the_newest_sample_per_series_within_max_age(store: Store, clock) -> None:
    store.write_samples(T0 - 100, [Sample("g", 1, {"s": "a"}), Sample("g", 2, {"s": "b"})])
    store.write_samples(T0 - 10, [Sample("g", 3, {"s": "a"})])

    got = {s.labels["s"]: (ts, v) for s, ts, v in store.latest("g")}
    assert got == {"a": (T0 - 10, 3.0), "b": (T0 - 100, 2.0)}
    assert [s.labels["s"] for s, _, _ in store.latest("g", max_age=60)] == ["a"]


def test_an_unknown_metric_gives_empty_results(store: Store) -> None:
    assert store.query_range("nope", None, T0, T0 + 60) == []
    assert store.raw("nope", None, T0, T0 + 60) == []
    assert store.increase("nope", None, T0, T0 + 60) == []
    assert store.latest("nope") == []


def test_an_unknown_mode_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="mode"):
        store.query_range("g", None, T0, T0 + 60, mode="median")
