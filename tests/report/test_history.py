"""Episodes of one alert from its transitions: only the ones that fired are incidents."""
from __future__ import annotations

from report.history import episodes, peak

ALERT = {"id": 7, "rule": "high", "alert_key": 'high{"target":"db"}', "series_labels": {"target": "db"},
         "thresholds": {"op": ">", "unit": "ratio"}}


def change(at: float, frm: str, to: str, severity: str | None = None, value: float | None = None) -> dict:
    return {"id": int(at), "at": at, "from_state": frm, "to_state": to, "to_severity": severity, "value": value}


def test_an_episode_runs_from_the_first_crossing_to_the_resolve():
    [e] = episodes(ALERT, [change(100, "ok", "pending", "warning", 0.06), change(160, "pending", "firing", "warning"),
                           change(400, "firing", "ok", None, 0.01)])
    assert (e.start, e.end, e.severity, e.labels) == (100, 400, "warning", {"target": "db"})


def test_a_pending_that_clears_is_no_incident():
    assert episodes(ALERT, [change(100, "ok", "pending", "warning"), change(130, "pending", "ok")]) == []


def test_the_severity_is_the_worst_it_fired_at_and_the_values_are_kept():
    [e] = episodes(ALERT, [change(100, "ok", "firing", "warning", 0.06),
                           change(200, "firing", "firing", "critical", 0.2),
                           change(300, "firing", "firing", "warning", 0.07), change(400, "firing", "ok", None, 0.0)])
    assert (e.severity, e.severity_value) == ("critical", 0.2)
    assert peak([v for _, v in e.values], higher_is_worse=True) == 0.2


def test_transitions_arrive_in_any_order():
    [e] = episodes(ALERT, [change(400, "firing", "ok"), change(100, "ok", "firing", "critical")])
    assert (e.start, e.end) == (100, 400)


def test_an_episode_begun_before_the_transitions_read_has_no_start():
    [e] = episodes(ALERT, [change(200, "firing", "firing", "critical"), change(300, "firing", "ok")])
    assert (e.start, e.end, e.severity) == (None, 300, "critical")


def test_an_open_episode_has_no_end_and_overlaps_everything_after_its_start():
    [e] = episodes(ALERT, [change(100, "ok", "firing", "critical")])
    assert e.end is None
    assert e.overlaps(5000, 6000) and not e.overlaps(0, 50)


def test_two_episodes_are_two_incidents():
    found = episodes(ALERT, [change(100, "ok", "firing", "warning"), change(200, "firing", "ok"),
                             change(300, "ok", "firing", "critical"), change(350, "firing", "ok")])
    assert [(e.start, e.end, e.severity) for e in found] == [(100, 200, "warning"), (300, 350, "critical")]
