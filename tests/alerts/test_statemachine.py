"""The pure evaluation of one alert instance, driven by a fake clock."""
from __future__ import annotations

from alerts.config import Flapping, Rule
from alerts.evaluate import evaluate
from alerts.statemachine import AlertState

NAN = float("nan")


def make_rule(**kw) -> Rule:
    base = {"name": "r", "expr": {"metric": "m"}, "warning": 90.0, "critical": 95.0}
    base.update(kw)
    return Rule.model_validate(base)


def run(rule: Rule, values: list, step: float = 15.0, flapping: Flapping | None = None):
    state, log = AlertState(), []
    for i, v in enumerate(values):
        out = evaluate(rule, v, state, i * step, flapping)
        state = out.state
        log.append((state.state, state.severity, [e.kind for e in out.events]))
    return state, log


def test_it_stays_pending_until_for_has_passed_then_fires():
    _, log = run(make_rule(**{"for": 30.0}), [91, 91, 91])
    assert log == [("pending", "warning", []), ("pending", "warning", []), ("firing", "warning", ["firing"])]


def test_it_fires_at_once_without_for():
    _, log = run(make_rule(), [96])
    assert log == [("firing", "critical", ["firing"])]


def test_a_dip_during_pending_restarts_the_pending_timer():
    _, log = run(make_rule(**{"for": 30.0}), [91, 50, 91, 91, 91])
    assert [e for _, _, e in log] == [[], [], [], [], ["firing"]]


def test_it_escalates_and_deescalates_while_firing():
    _, log = run(make_rule(), [91, 96, 92, 50])
    assert [e for _, _, e in log] == [["firing"], ["escalated"], ["deescalated"], ["resolved"]]


def test_it_resolves_only_below_the_clear_level():
    _, log = run(make_rule(clear=80.0), [91, 85, 81, 79])
    assert [s for s, _, _ in log] == ["firing", "firing", "firing", "ok"]


def test_critical_clear_level_holds_critical_until_passed():
    _, log = run(make_rule(clear={"warning": 80, "critical": 93}), [96, 94, 92])
    assert [sev for _, sev, _ in log] == ["critical", "critical", "warning"]


def test_keep_firing_for_delays_the_resolve():
    _, log = run(make_rule(keep_firing_for=30.0), [91, 50, 50, 50])
    assert [e for _, _, e in log] == [["firing"], [], [], ["resolved"]]


def test_missing_data_raises_a_stale_alert_instead_of_resolving():
    _, log = run(make_rule(), [91, None, 50])
    # The stale alert keeps the level it fired at: it is the same incident, still paging.
    assert log == [("firing", "warning", ["firing"]), ("stale", "warning", ["stale"]), ("ok", None, ["resolved"])]


def test_a_firing_alert_whose_data_returns_breaching_fires_again_without_pending():
    _, log = run(make_rule(**{"for": 60.0}), [91, 91, 91, 91, 91, None, 91])
    assert log[-1] == ("firing", "warning", ["firing"])


def test_no_data_ok_resolves_and_no_data_alerting_fires():
    assert run(make_rule(no_data="ok"), [91, None])[1][-1] == ("ok", None, ["resolved"])
    assert run(make_rule(no_data="alerting"), [None])[1][-1] == ("firing", "critical", ["firing"])


def test_no_data_keep_state_changes_nothing():
    state, log = run(make_rule(no_data="keep_state"), [91, None, None])
    assert state.state == "firing" and [e for _, _, e in log] == [["firing"], [], []]


def test_an_undefined_value_keeps_the_state():
    state, log = run(make_rule(), [91, NAN, NAN])
    assert state.state == "firing" and log[1][2] == [] and log[2][2] == []


def test_lower_is_worse_rules_compare_downwards():
    r = make_rule(op="<", warning=0.9, critical=0.8, clear={"warning": 0.92})
    _, log = run(r, [0.95, 0.85, 0.75, 0.91, 0.93])
    assert [sev for _, sev, _ in log] == [None, "warning", "critical", "warning", None]


def test_flapping_turns_into_one_flapping_event_and_one_all_clear():
    fl = Flapping(transitions=4, window=600.0, settle=120.0)
    values = [91, 50] * 5 + [50] * 10
    _, log = run(make_rule(), values, flapping=fl)
    all_events = [e for _, _, es in log for e in es]
    assert all_events == ["firing", "resolved", "firing", "resolved", "flapping", "flapping_ended"]
    assert log[-1][0] == "ok"


def test_the_flapping_event_carries_the_count_and_the_timeline():
    fl = Flapping(transitions=2, window=600.0, settle=120.0)
    state, flap = AlertState(), None
    for i, v in enumerate([91, 50, 91]):
        out = evaluate(make_rule(), v, state, i * 15.0, fl)
        state = out.state
        flap = next((e for e in out.events if e.kind == "flapping"), flap)
    assert flap is not None and flap.extra["transitions"] == 3
    assert [t["event"] for t in flap.extra["timeline"]] == ["firing", "resolved", "firing"]


def test_flapping_that_settles_while_breaching_reopens_as_firing():
    fl = Flapping(transitions=2, window=600.0, settle=60.0)
    _, log = run(make_rule(), [91, 50, 91] + [91] * 6, flapping=fl)
    all_events = [e for _, _, es in log for e in es]
    assert all_events == ["firing", "resolved", "flapping", "flapping_ended", "firing"]
    assert log[-1][:2] == ("firing", "warning")


def _events(rule: Rule, values: list, step: float = 15.0) -> list:
    state, out = AlertState(), []
    for i, v in enumerate(values):
        o = evaluate(rule, v, state, i * step)
        state = o.state
        out += o.events
    return out


def test_firing_says_since_the_first_crossing_not_since_it_fired():
    [fired] = _events(make_rule(**{"for": 30.0}), [50, 91, 91, 91])
    assert (fired.kind, fired.at, fired.started_at) == ("firing", 45.0, 15.0)


def test_the_resolve_carries_the_start_the_state_machine_clears():
    events = _events(make_rule(**{"for": 30.0}), [91, 91, 91, 96, 91, 50])
    assert [(e.kind, e.at, e.started_at) for e in events] == [
        ("firing", 30.0, 0.0), ("escalated", 45.0, 0.0), ("deescalated", 60.0, 0.0), ("resolved", 75.0, 0.0)]


def test_an_alert_that_goes_silent_while_firing_stays_the_same_incident():
    events = _events(make_rule(**{"for": 15.0}), [91, 91, None, None, 50])
    assert [(e.kind, e.started_at) for e in events] == [("firing", 0.0), ("stale", 0.0), ("resolved", 0.0)]


def test_no_data_of_an_alert_that_never_fired_starts_when_the_data_stopped():
    events = _events(make_rule(), [50, None, None, 50])
    assert [(e.kind, e.at, e.started_at) for e in events] == [("stale", 15.0, 15.0), ("resolved", 45.0, 15.0)]
