from __future__ import annotations

import math

import pytest

from core.units import format_value, unit_for_metric


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (0.4051, "ratio", "40.5 %"),
    (0.999, "ratio", "99.90 %"),
    (1.0, "ratio", "100.0 %"),
    (0.000052, "seconds", "52 µs"),
    (0.0042, "seconds", "4.2 ms"),
    (0.231, "seconds", "231 ms"),
    (1.0, "seconds", "1.00 s"),
    (2.345, "seconds", "2.35 s"),
    (42.0, "seconds", "42.0 s"),
    (5400.0, "seconds", "90.0 min"),
    (3.2e9, "bytes", "3.0 GiB"),
    (512.0, "bytes", "512 B"),
    (1234.5, "eur", "€1,234.50"),
    (1234.0, "count", "1,234"),
    (0.25, "none", "0.25"),
])
def test_a_value_reads_in_its_unit(value, unit, shown):
    assert format_value(value, unit) == shown


@pytest.mark.parametrize("missing", [None, math.nan])
def test_no_value_is_a_dash_never_nan(missing):
    assert format_value(missing, "ratio") == "–"


@pytest.mark.parametrize(("name", "unit"), [
    ("lookout_pool_utilization_ratio", "ratio"),
    ("pg_stat_statements_mean_seconds", "seconds"),
    ("pg_database_size_bytes", "bytes"),
    ("redis_keyspace_hits_total", "count"),
    ("pg_stat_activity_count", "count"),
    ("pg_up", "none"),
])
def test_a_metric_name_declares_its_unit(name, unit):
    assert unit_for_metric(name) == unit
