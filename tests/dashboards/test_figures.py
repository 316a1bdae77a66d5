"""Figures without text over the plot: alert bands and marker rows, thresholds in the legend."""
from __future__ import annotations

from dashboards.fetch import Transition
from dashboards.figures import (
    CRIT,
    MARK_AXIS,
    OK_COLOUR,
    SPAN_FILL,
    WARN,
    alert_marks,
    alert_spans,
    down_marks,
    lone_point_sizes,
    timeseries,
)
from dashboards.series import Line

T0 = 1_700_000_000.0
RANGE = (T0, T0 + 3600.0)  # one hour shown: changes under 90 s apart share a marker


def tr(dt: float, rule: str = "CacheHitRateLow", state: str = "firing", severity: str | None = "warning",
       key: str = "a", from_state: str | None = None, carried: bool = False) -> Transition:
    return Transition(ts=T0 + dt, rule=rule, state=state, severity=severity, key=key, from_state=from_state,
                      carried=carried)


def ms(dt: float) -> int:
    return int((T0 + dt) * 1000)


def test_a_firing_alert_is_a_band_from_its_start_to_its_resolve():
    assert alert_spans([tr(600), tr(1800, state="ok", severity=None)], RANGE) == [
        (T0 + 600, T0 + 1800, "CacheHitRateLow", "warning")]


def test_an_alert_still_firing_reaches_the_end_of_the_view():
    assert alert_spans([tr(3000, severity="critical")], RANGE) == [(T0 + 3000, T0 + 3600, "CacheHitRateLow",
                                                                     "critical")]


def test_an_alert_firing_before_the_view_begins_at_its_start():
    resolved = tr(900, state="ok", severity=None, from_state="firing")
    assert alert_spans([resolved], RANGE) == [(T0, T0 + 900, "CacheHitRateLow", "warning")]


def test_an_escalation_changes_the_band_colour_where_it_happens():
    changes = [tr(100), tr(400, severity="critical", from_state="firing"), tr(700, state="ok", severity=None)]
    assert alert_spans(changes, RANGE) == [(T0 + 100, T0 + 400, "CacheHitRateLow", "warning"),
                                           (T0 + 400, T0 + 700, "CacheHitRateLow", "critical")]


def test_pending_is_not_shaded():
    assert alert_spans([tr(100, state="pending"), tr(130, state="ok", severity=None)], RANGE) == []


def test_two_series_of_one_rule_firing_together_make_one_band():
    changes = [tr(100, key="a"), tr(200, key="b"), tr(500, state="ok", key="a"), tr(800, state="ok", key="b")]
    assert alert_spans(changes, RANGE) == [(T0 + 100, T0 + 800, "CacheHitRateLow", "warning")]


def test_each_rule_is_one_legend_entry_with_its_band_and_a_marker_per_change():
    [mark] = alert_marks([tr(600), tr(1800, state="ok", severity=None)], RANGE)
    assert mark.trace["name"] == "CacheHitRateLow" and mark.trace["yaxis"] == MARK_AXIS
    assert mark.trace["x"] == [ms(600), ms(1800)]
    assert mark.trace["marker"]["color"] == [WARN, OK_COLOUR]
    assert [(s["x0"], s["x1"], s["fillcolor"]) for s in mark.shapes] == [(ms(600), ms(1800), SPAN_FILL["warning"])]
    assert mark.trace["text"][0].endswith("CacheHitRateLow firing (warning)")


def test_changes_close_together_share_one_marker_that_lists_them():
    burst = [tr(1000, state="pending"), tr(1010, severity="critical"), tr(1060, state="ok", severity=None)]
    [mark] = alert_marks(burst + [tr(3000)], RANGE)
    assert mark.trace["x"] == [ms(1060), ms(3000)]  # at the group's latest change
    assert mark.trace["marker"]["color"][0] == CRIT  # the worst of the group
    hover = mark.trace["text"][0].split("<br>")
    assert len(hover) == 3 and hover[1].endswith("firing (critical)") and hover[2].endswith("ok")


def test_pending_then_firing_in_the_same_second_is_marked_once_as_firing():
    [mark] = alert_marks([tr(500.2, state="pending"), tr(500.7)], RANGE)
    assert mark.trace["text"] == [mark.trace["text"][0]] and "pending" not in mark.trace["text"][0]


def test_the_grouping_follows_the_range_shown():
    changes = [tr(0), tr(120)]
    assert len(alert_marks(changes, (T0, T0 + 3600))[0].trace["x"]) == 2  # 2 min apart in an hour: two
    assert len(alert_marks(changes, (T0, T0 + 86400))[0].trace["x"]) == 1  # in a day: one


def test_a_storm_of_changes_stays_a_bounded_number_of_marks_and_entries():
    storm = [tr(i * 1.0, f"R{i % 9}", "firing" if i % 2 else "ok") for i in range(3600)]
    marks = alert_marks(storm, RANGE)
    assert len(marks) <= 7 and marks[-1].trace["name"] == "other alerts"
    for m in marks:
        assert 0 < len(m.trace["x"]) <= 40 and all(t.count("<br>") <= 12 for t in m.trace["text"])


def test_an_alert_firing_all_along_the_view_is_a_band_with_a_legend_entry_and_no_marker():
    [mark] = alert_marks([tr(0, severity="critical", from_state="firing", carried=True)], RANGE)
    assert mark.trace["x"] == [None] and mark.trace["marker"]["color"] == CRIT
    assert [(s["x0"], s["x1"]) for s in mark.shapes] == [(ms(0), ms(3600))]


def test_a_down_target_is_a_band_with_a_marker_saying_from_when_to_when():
    [mark] = down_marks([(T0 + 60, T0 + 180, "shop-db")])
    assert mark.trace["name"] == "shop-db down" and mark.trace["x"] == [ms(60)]
    assert mark.trace["text"][0].endswith("(2.0 min)")


def test_thresholds_are_legend_entries_in_the_unit_not_labels_over_the_plot():
    fig = timeseries([Line("hit", [1, 2], [0.8, 0.8])], theme="light", unit="ratio", thresholds=(0.9, 0.8),
                     x_range=RANGE, transitions=[tr(600)], down=[(T0 + 60, T0 + 180, "shop-cache")])
    named = [s["name"] for s in fig["layout"]["shapes"] if s.get("showlegend")]
    assert named == ["warning 90.0 %", "critical 80.0 %"]
    assert fig["layout"]["annotations"] == []
    assert [t["name"] for t in fig["data"]] == ["hit", "CacheHitRateLow", "shop-cache down"]
    assert fig["layout"]["yaxis9"]["visible"] is False


def test_a_limit_can_be_named_for_what_it_is():
    fig = timeseries([], theme="light", thresholds=(None, 100.0), limit_names=("warning", "max_connections"))
    assert [s["name"] for s in fig["layout"]["shapes"]] == ["max_connections 100"]


def test_a_point_no_line_reaches_is_drawn_as_a_dot():
    assert lone_point_sizes([None, 0.5, None, 0.6, 0.7]) == [0, 5, 0, 0, 0]
    assert lone_point_sizes([0.5]) == [5]
    assert lone_point_sizes([0.5, 0.6]) is None
    fig = timeseries([Line("first poll", [1], [0.5])], theme="light")
    assert fig["data"][0]["mode"] == "lines+markers"


def test_a_critical_alert_only_pending_is_marked_orange_not_red():
    [mark] = alert_marks([tr(100, state="pending", severity="critical")], RANGE)
    assert mark.trace["marker"]["color"] == WARN


def test_the_legend_shows_a_rule_in_its_worst_colour_whatever_its_first_marker():
    fig = timeseries([], theme="light", x_range=RANGE, transitions=[tr(100, state="pending", severity="critical"),
                                                                     tr(400, severity="critical")])
    shown = [t for t in fig["data"] if t["name"] == "CacheHitRateLow" and t.get("showlegend", True)]
    assert [t["marker"]["color"] for t in shown] == [CRIT]
