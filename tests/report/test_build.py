"""The report's numbers, checked against what the seeded history wrote (tests/report/seed.py)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from alerts import queries
from report.build import build
from store import Store
from tests.report.seed import END, OUTAGE_END, OUTAGE_START, PER_STEP, SINCE, promises, seed
from tests.support import T0, FakeClock, migrate_store


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seeded(request, tmp_path_factory):
    server = None
    if request.param == "sqlite":
        url = migrate_store(f"sqlite:///{tmp_path_factory.mktemp('report') / 'store.db'}")
    else:
        server = request.getfixturevalue("pg_server")
        url = server.create("lookout_report", template=server.template())
    clock = FakeClock(T0)
    store = Store(url, clock=clock)
    written = seed(store, clock)
    report = build(promises(), store, clock.now, SINCE)
    yield SimpleNamespace(store=store, now=clock.now, written=written, report=report,
                          promise={p.id: p for p in report.promises})
    store.close()
    if server is not None:
        server.drop(url)


def episode_edges(store: Store, rule: str) -> tuple[float, float]:
    """(first crossing, resolve) of the rule's one episode, as the alert history has them."""
    changes = [c for c in queries.transitions_between(store.engine, T0, END) if c.rule == rule]
    start = next(c.at for c in changes if c.from_state == "ok")
    end = next(c.at for c in changes if c.to_state == "ok")
    return start, end


def test_every_active_promise_is_reported_in_order(seeded):
    assert [p.id for p in seeded.report.promises] == ["payment_success", "pool_utilisation", "uptime"]


def test_compliance_is_the_share_of_good_payments_over_the_period(seeded):
    w = seeded.written
    p = seeded.promise["payment_success"]
    assert p.compliance == pytest.approx(1 - w.failed / (w.ok + w.failed))
    assert p.seen == w.ok + w.failed
    assert p.kept is False and p.verdict == "missed"


def test_the_budget_left_is_what_the_period_spent_of_its_error_budget(seeded):
    w = seeded.written
    p = seeded.promise["payment_success"]
    burned = (w.failed / (w.ok + w.failed)) / (1 - 0.98)
    assert p.budget_left == pytest.approx(1 - burned)


def test_the_worst_hour_is_the_clock_hour_of_the_outage(seeded):
    hour = seeded.promise["payment_success"].worst_hour
    assert hour is not None
    assert hour.start == OUTAGE_START // 3600 * 3600 and hour.start % 3600 == 0
    events = 3600 / 15 * PER_STEP
    assert hour.events == pytest.approx(events)
    assert hour.value == pytest.approx(1 - (OUTAGE_END - OUTAGE_START) / 15 * PER_STEP / events)


def test_the_incident_starts_at_the_first_crossing_and_ends_at_the_resolve(seeded):
    [inc] = seeded.promise["payment_success"].incidents
    start, end = episode_edges(seeded.store, "promise_payment_success")
    assert (inc.start, inc.end, inc.severity) == (start, end, "critical")
    assert inc.duration(seeded.now) == end - start
    # The burn alerts need minutes of failures to fire, and the 30-minute window to clear.
    assert OUTAGE_START < inc.start < OUTAGE_START + 15 * 60
    assert OUTAGE_END < inc.end < OUTAGE_END + 30 * 60


def test_the_incident_s_worst_value_is_no_payment_succeeding(seeded):
    [inc] = seeded.promise["payment_success"].incidents
    assert inc.worst == pytest.approx(0.0) and inc.unit == "ratio"


def test_a_threshold_promise_s_worst_hour_is_its_highest_hourly_mean(seeded):
    p = seeded.promise["pool_utilisation"]
    hour = p.worst_hour
    assert hour is not None and hour.start == OUTAGE_START // 3600 * 3600
    # The outage's 100 polls at 95 % and the hour's other 140 at 50 %.
    assert hour.value == pytest.approx((100 * 0.95 + 140 * 0.5) / 240)
    assert [i.worst for i in p.incidents] == [pytest.approx(0.95)]


def test_a_threshold_promise_s_compliance_is_the_share_of_time_within_its_bound(seeded):
    p = seeded.promise["pool_utilisation"]
    outage_share = (OUTAGE_END - OUTAGE_START) / (END - T0)
    assert p.compliance == pytest.approx(1 - outage_share, abs=0.02)
    assert p.seen_what.startswith("slices of")


def test_the_threshold_rule_s_incident_is_listed_among_the_other_alerts(seeded):
    [inc] = seeded.report.others
    start, end = episode_edges(seeded.store, "payment_failure_ratio")
    assert (inc.rule, inc.start, inc.end, inc.severity) == ("payment_failure_ratio", start, end, "critical")
    assert inc.name == "payment_failure_ratio target=shop"
    # The value recorded when it fired critical (a rule is not re-evaluated between its state changes).
    row = next(a for a in queries.alert_rows(seeded.store.engine) if a["rule"] == "payment_failure_ratio")
    detail = queries.alert_detail(seeded.store.engine, row["id"])
    fired = min((t for t in detail.transitions if t["to_severity"] == "critical"), key=lambda t: t["at"])
    assert inc.unit == "ratio" and inc.worst == fired["value"] and inc.worst > 0.10


def test_a_promise_without_samples_says_so_and_has_no_numbers(seeded):
    p = seeded.promise["uptime"]
    assert (p.compliance, p.budget_left, p.worst_hour, p.series, p.incidents) == (None, None, None, [], [])
    assert p.reason == "no samples of lookout_target_up" and p.verdict == "no data"


def test_an_incident_before_the_period_is_left_out(seeded):
    later = build(promises(), seeded.store, END + 6 * 3600, 3600)
    assert all(p.incidents == [] for p in later.promises) and later.others == []
    assert later.promises[0].compliance is None


def test_a_period_shorter_than_an_hour_is_refused(seeded):
    with pytest.raises(ValueError, match="since must be at least 1h"):
        build(promises(), seeded.store, END, 1800)
