"""histogram_quantile as Prometheus computes it, against hand-computed values."""
from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors.http.quantiles import bucket_quantile, deltas

INF = math.inf
SHOP = [(0.01, 0), (0.1, 18), (0.2, 18), (0.4, 20), (0.8, 20), (INF, 20)]


@pytest.mark.parametrize(("q", "buckets", "expected"), [
    (0.95, SHOP, 0.2 + 0.2 * (1 / 2)),            # rank 19: 2nd of the 2 in (0.2, 0.4]
    (0.5, SHOP, 0.01 + 0.09 * (10 / 18)),          # rank 10 of 18 in (0.01, 0.1]
    (0.99, SHOP, 0.2 + 0.2 * (1.8 / 2)),
    (0.5, [(0.5, 10), (INF, 10)], 0.25),            # the first bucket starts at 0
    (0.95, [(1, 5), (2, 8), (INF, 10)], 2.0),       # rank in +Inf: the highest finite bound
    (0.2, [(-1, 5), (INF, 10)], -1.0),              # first bucket with a bound <= 0: that bound
    (0.5, [(1, 5), (2, 3), (INF, 10)], 1.0),        # a decrease is flattened to 5, 5, 10
    (0.6, [(2, 8), (1, 2), (1, 3), (INF, 10)], 1 + 1 / 3),  # unsorted, equal bounds summed
    (0.0, [(0.5, 2), (INF, 4)], 0.0),               # rank 0 in a non-empty first bucket: its start
])
def test_the_quantile_matches_the_hand_computed_value(q, buckets, expected):
    assert bucket_quantile(q, buckets) == pytest.approx(expected)


@pytest.mark.parametrize(("q", "buckets", "expected"), [
    (-0.1, SHOP, -INF), (1.1, SHOP, INF),
])
def test_a_quantile_out_of_range_is_infinite(q, buckets, expected):
    assert bucket_quantile(q, buckets) == expected


@pytest.mark.parametrize("buckets", [
    [(0.1, 1), (0.5, 3)],                # no +Inf bucket
    [(0.1, 0), (INF, 0)],                # no observations
    [(INF, 4)],                          # a single bucket
    [],
])
def test_undefined_quantiles_are_nan(buckets):
    assert math.isnan(bucket_quantile(0.5, buckets))


def test_rank_zero_in_an_empty_first_bucket_is_nan_as_in_go():
    assert math.isnan(bucket_quantile(0.0, [(0.1, 0), (INF, 5)]))  # 0/0 in Go is NaN


def test_deltas_need_a_previous_poll_and_survive_a_counter_reset():
    assert deltas({"a": 5.0}, None) is None
    assert deltas({"a": 5.0, "b": 9.0}, {"a": 2.0, "b": 3.0}) == {"a": 3.0, "b": 6.0}
    # b went down: the app restarted, so the current values are the increase since then
    assert deltas({"a": 5.0, "b": 1.0}, {"a": 2.0, "b": 3.0}) == {"a": 5.0, "b": 1.0}


@st.composite
def histograms(draw):
    bounds = sorted(draw(st.sets(st.floats(0.001, 100, allow_nan=False), min_size=1, max_size=8)))
    increments = draw(st.lists(st.integers(0, 50), min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    counts, total = [], 0
    for inc in increments:
        total += inc
        counts.append(float(total))
    return list(zip([*bounds, INF], counts, strict=True))


@given(histograms(), st.floats(0, 1))
def test_the_quantile_lies_within_the_bounds_of_the_bucket_holding_the_rank(buckets, q):
    result = bucket_quantile(q, buckets)
    total = buckets[-1][1]
    if total == 0:
        assert math.isnan(result)
        return
    rank = q * total
    i = next(i for i, (_, c) in enumerate(buckets) if c >= rank)
    if rank == 0 and buckets[0][1] == 0:
        assert math.isnan(result)  # 0/0 in the empty first bucket, as Prometheus answers
        return
    if i == len(buckets) - 1:
        assert result == buckets[-2][0]
    else:
        lower = buckets[i - 1][0] if i > 0 else 0.0
        assert lower - 1e-9 <= result <= buckets[i][0] + 1e-9
