"""Reductions over a window, matchers, and maintenance window times."""
from __future__ import annotations

import math

from alerts.config import MaintenanceWindow
from alerts.maintenance import active
from alerts.matchers import Matcher
from alerts.rules import ratio, reduce

PTS = [(10.0, 5.0), (20.0, 1.0), (30.0, 3.0), (40.0, 0.5), (50.0, 2.0)]


def test_each_aggregation_reduces_the_points_in_the_window():
    got = {a: reduce(PTS, a, 35.0, 50.0) for a in ("last", "avg", "min", "max", "p95", "delta")}
    assert got == {"last": 2.0, "avg": 1.625, "min": 0.5, "max": 3.0, "p95": 3.0, "delta": 1.0}


def test_rate_and_increase_count_only_the_samples_since_a_counter_reset():
    # 3.0 -> 0.5 is a reset: what the counter held at 40 covers an unknown stretch (issue 15)
    assert reduce(PTS, "increase", 35.0, 50.0) == 1.5
    assert reduce(PTS, "rate", 35.0, 50.0) == 1.5 / 10.0


def test_no_point_in_the_window_is_no_data_and_one_counter_point_is_undefined():
    assert reduce(PTS, "last", 5.0, 100.0) is None
    assert math.isnan(reduce(PTS, "rate", 5.0, 50.0))


def test_a_ratio_over_zero_traffic_is_undefined_not_an_alert():
    got = ratio({"k": ({}, 0.0)}, {"k": ({}, 0.0)})
    assert math.isnan(got["k"][1])


def test_regex_matchers_are_anchored():
    m = Matcher(name="job", op="=~", value="api|web")
    assert m.matches({"job": "api"}) and not m.matches({"job": "api2"})
    assert Matcher(name="x", op="!=", value="1").matches({})


def test_a_weekday_window_crossing_midnight_belongs_to_the_day_it_starts():
    w = MaintenanceWindow(name="n", weekdays=["sat"], start="23:00", end="01:00", timezone="Europe/Berlin")
    # Sunday 2024-03-03 00:30 in Berlin = 2024-03-02 23:30 UTC
    assert active(w, 1709422200.0)
    # Monday 00:30 Berlin: Sunday's window, not configured
    assert not active(w, 1709422200.0 + 86400)


def test_a_cron_window_is_active_for_its_duration_after_each_start():
    w = MaintenanceWindow(name="deploy", cron="0 9,14 * * mon-fri", duration=1800.0, timezone="UTC")
    monday_9 = 1709542800.0  # 2024-03-04 09:00 UTC
    assert active(w, monday_9 + 60) and not active(w, monday_9 + 1800) and not active(w, monday_9 - 60)
    assert not active(w, monday_9 - 2 * 86400 + 60)  # Saturday


def test_an_empty_window_on_a_series_fresher_than_three_target_intervals_is_undefined_not_no_data():
    # A 15 s target, a 20 s window: the poll due at 30 is late, the newest point is 15 s old at 40.
    pts = [(0.0, 1.0), (15.0, 1.0)]
    assert math.isnan(reduce(pts, "last", 20.0, 40.0, stale_after=45.0))
    assert reduce(pts, "last", 20.0, 61.0, stale_after=45.0) is None  # newest 46 s old: stale
    assert reduce(pts, "last", 20.0, 40.0) is None  # without the target's interval: the window alone


def test_a_series_whose_only_sample_is_stamped_after_now_is_undefined_not_no_data():
    # Its first collection started after the evaluation read its clock, and committed before it read.
    assert math.isnan(reduce([(100.5, 1.0)], "last", 30.0, 100.0))
