"""Burn rates and verdicts against hand-computed windows (Google SRE Workbook, ch. 5)."""
from __future__ import annotations

import pytest

from promises import burn
from promises.config import DEFAULT_BURN, BurnAlert

ALERTS = [BurnAlert.model_validate(b, context={"from_file": True}) for b in DEFAULT_BURN]
H, M, D = 3600.0, 60.0, 86400.0


def readings(**bad: float | None) -> dict[float, burn.Reading]:
    spans = {"m5": 5 * M, "m30": 30 * M, "h1": H, "h6": 6 * H, "d3": 3 * D}
    return {spans[k]: burn.Reading(spans[k], v, 100.0) for k, v in bad.items()}


def test_a_bad_share_equal_to_the_budget_burns_once():
    assert burn.burn_rate(0.02, 0.98) == pytest.approx(1.0)
    assert burn.budget_left(0.02, 0.98) == pytest.approx(0.0)


def test_two_percent_failures_against_98_percent_never_page():
    found = burn.checks(ALERTS, readings(m5=0.02, m30=0.02, h1=0.02, h6=0.02, d3=0.02), 0.98)
    assert burn.level(found) != "critical"


def test_it_pages_when_the_hour_and_the_five_minutes_both_burn_fast():
    # 14.4x of a 99.9 % objective is a 1.44 % error share.
    found = burn.checks(ALERTS, readings(m5=0.05, m30=0.0, h1=0.0145, h6=0.0, d3=0.0), 0.999)
    assert burn.level(found) == "critical"
    assert burn.score(found) == 2.0


def test_a_spike_that_ended_does_not_page_though_the_hour_still_remembers_it():
    found = burn.checks(ALERTS, readings(m5=0.0, m30=0.0, h1=0.02, h6=0.0, d3=0.0), 0.999)
    assert burn.level(found) is None
    assert burn.score(found) < 1


def test_a_slow_burn_is_a_ticket_not_a_page():
    found = burn.checks(ALERTS, readings(m5=0.0015, m30=0.0015, h1=0.0015, h6=0.0015, d3=0.0015), 0.999)
    assert burn.level(found) == "warning"
    assert burn.score(found) == 1.0


def test_a_window_without_a_reading_never_fires():
    found = burn.checks(ALERTS, readings(m5=1.0, m30=1.0, h1=None, h6=None, d3=None), 0.99)
    assert burn.level(found) is None


def test_the_score_says_how_close_the_nearest_alert_is():
    # 1h burns 7.2x (half of 14.4) and 5m 10x: the page alert is 50 % of the way.
    found = burn.checks(ALERTS, readings(m5=0.01, m30=0.0, h1=0.0072, h6=0.0, d3=0.0), 0.999)
    assert burn.score(found) == pytest.approx(0.5)


def test_a_short_window_longer_than_its_long_window_is_refused():
    with pytest.raises(ValueError, match="short"):
        BurnAlert(severity="critical", long=300.0, short=3600.0, factor=2)
