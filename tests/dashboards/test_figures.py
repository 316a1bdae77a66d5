"""Alert transition markers on time-series charts: grouped so labels never pile up."""
from __future__ import annotations

from dashboards.fetch import Transition
from dashboards.figures import CRIT, WARN, timeseries, transition_marks

T0 = 1_700_000_000.0
RANGE = (T0, T0 + 3600.0)  # one hour shown: changes under 90 s apart share a line


def tr(dt: float, rule: str = "CacheHitRateLow", state: str = "firing", severity: str | None = "warning"):
    return Transition(ts=T0 + dt, rule=rule, state=state, severity=severity)


def test_a_lone_change_gets_its_own_line_and_plain_label():
    shapes, notes = transition_marks([tr(600), tr(1800, state="ok", severity=None)], RANGE)
    assert [n["text"] for n in notes] == ["CacheHitRateLow firing", "CacheHitRateLow ok"]
    assert [s["x0"] for s in shapes] == [int((T0 + 600) * 1000), int((T0 + 1800) * 1000)]
    assert [s["line"]["color"] for s in shapes] == [WARN, "#198754"]


def test_changes_close_together_share_one_line_labelled_with_their_count():
    burst = [tr(1000, "A", "pending"), tr(1010, "B", "firing", "critical"), tr(1030, "A", "firing"),
             tr(1060, "C", "ok", None)]
    shapes, notes = transition_marks(burst + [tr(3000, "A", "ok", None)], RANGE)
    assert [n["text"] for n in notes] == ["4 alert changes", "A ok"]
    assert shapes[0]["x0"] == int((T0 + 1060) * 1000)  # at the group's latest change
    assert shapes[0]["line"]["color"] == CRIT  # the worst of the group
    hover = notes[0]["hovertext"].split("<br>")
    assert len(hover) == 4 and hover[1].endswith("B firing (critical)") and hover[3].endswith("C ok")


def test_one_rule_changing_often_says_so():
    _, notes = transition_marks([tr(100, state="pending"), tr(130), tr(160, state="ok", severity=None)], RANGE)
    assert [n["text"] for n in notes] == ["CacheHitRateLow ok (+2)"]


def test_pending_then_firing_in_the_same_second_is_marked_once_as_firing():
    shapes, notes = transition_marks([tr(500.2, state="pending"), tr(500.7)], RANGE)
    assert [n["text"] for n in notes] == ["CacheHitRateLow firing"] and len(shapes) == 1


def test_the_grouping_follows_the_range_shown():
    changes = [tr(0), tr(120, "B")]
    assert len(transition_marks(changes, (T0, T0 + 3600))[1]) == 2  # 2 min apart in an hour: two lines
    assert len(transition_marks(changes, (T0, T0 + 86400))[1]) == 1  # in a day: one


def test_a_storm_of_changes_stays_a_bounded_number_of_marks():
    storm = [tr(i * 1.0, f"R{i % 7}", "firing" if i % 2 else "ok") for i in range(3600)]
    shapes, notes = transition_marks(storm, RANGE)
    assert 0 < len(notes) <= 40 and len(shapes) == len(notes)
    assert all(n["hovertext"].count("<br>") <= 12 for n in notes)


def test_the_chart_carries_the_marks_next_to_its_thresholds():
    fig = timeseries([], theme="light", thresholds=(0.9, 0.95), x_range=RANGE, transitions=[tr(600)])
    lines = [s for s in fig["layout"]["shapes"] if s["xref"] == "x"]
    assert len(lines) == 1 and [a["text"] for a in fig["layout"]["annotations"]][-1] == "CacheHitRateLow firing"


def test_a_steady_stream_of_changes_stays_spread_over_the_range():
    stream = [tr(i * 60.0, "A" if i % 2 else "B") for i in range(60)]  # one a minute for an hour
    shapes, _ = transition_marks(stream, RANGE)
    xs = [s["x0"] / 1000 - T0 for s in shapes]
    assert len(xs) >= 25 and xs[0] < 200 and xs[-1] > 3400  # not one line at the end
