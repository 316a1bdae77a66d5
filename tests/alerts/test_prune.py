"""Alert history retention: what goes after ``history_retention``, what stays whatever its age.

The history is made by the real engine and notifier on a fake clock: an old
incident (fired and resolved at T0), an alert firing since T0, a young incident
a day inside the retention, and pruning runs 91 days after T0.
"""
from __future__ import annotations

import json
import logging
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Table, insert, select

from alerts.notify import Notifier
from alerts.notify.channels import sink
from alerts.notify.schema import delivery_attempts, notify_alerts, notify_groups, outbox, sink_messages
from alerts.notify.transport import Notification, Transport, TransportError
from alerts.prune import PRUNE_SECONDS, prune
from alerts.schema import acks, alert_events, alert_state, alert_transitions, silences, writer_of
from composition import alerting as wiring
from store.engine import create_store_engine
from tests.alerts.conftest import T0, alerting, put, rule

DAY = 86400.0
RETENTION = 90 * DAY
YOUNG = T0 + 89 * DAY  # a day inside the retention when pruning runs
NOW = T0 + 91 * DAY
CUTOFF = NOW - RETENTION


class Refusing(Transport):
    """A channel that refuses every message for good: everything sent to it is dead-lettered."""

    def notify(self, notification: Notification) -> None:
        raise TransportError("403 forbidden", permanent=True)


class Throttled(Transport):
    """A channel that asks to come back in a year: its messages stay pending."""

    def notify(self, notification: Notification) -> None:
        raise TransportError("429 too many requests", retry_after=365 * DAY)


class History:
    def __init__(self, store: Any, clock: Any, make_engine: Any) -> None:
        self.store, self.clock = store, clock
        self.config = alerting(rule(no_data="ok"), notifications={"receivers": [
            {"name": "sink", "sink": {}}, {"name": "pager", "sink": {}}, {"name": "slow", "sink": {}}]})
        self.engine = make_engine(self.config)
        self.notifier = Notifier(self.config.notifications, store, clock=clock, env={})
        self.notifier.transports.update(sink.transports(self.config.notifications, writer_of(store).begin))
        self.notifier.transports.update(pager=Refusing(), slow=Throttled())

    def at(self, when: float, **values: float) -> None:
        """Samples of the given targets at ``when``, then one evaluation, routing and dispatch."""
        self.clock.now = when
        for target, value in values.items():
            put(self.store, self.clock, value, target=target)
        self.engine.evaluate()
        for _ in range(2):  # the second pass delivers the dead-letter notices the first one wrote
            self.notifier.route()
            self.notifier.dispatch()

    def alert_id(self, target: str) -> int:
        return next(r.id for r in rows(self.store, alert_state) if json.loads(r.series_labels)["target"] == target)

    def build(self) -> History:
        self.at(T0, db=5.0, api=5.0)  # both fire
        self.engine.ack(self.alert_id("db"), "alice", now=T0 + 30)
        self.engine.ack(self.alert_id("api"), "alice", now=T0 + 30)
        self.engine.silence({"target": "cache"}, None, T0 + 3600, "alice", "migration", now=T0)
        self.engine.silence({"target": "queue"}, None, NOW + DAY, "alice", "long job", now=T0)
        self.at(T0 + 60, db=0.0, api=5.0)  # db resolves, api keeps firing
        self.at(YOUNG, web=5.0, api=5.0)
        self.engine.ack(self.alert_id("web"), "bob", now=YOUNG + 30)
        self.engine.silence({"target": "cache"}, None, YOUNG + 3600, "bob", "again", now=YOUNG)
        self.at(YOUNG + 60, web=0.0, api=5.0)
        self.clock.now = NOW
        return self


def rows(store: Any, table: Table) -> list[Any]:
    with store.engine.connect() as conn:
        return conn.execute(select(table).order_by(*table.primary_key.columns)).all()


def run_prune(h: History, **kw: Any) -> dict[str, int]:
    return prune(h.store, RETENTION, NOW, **kw)


@pytest.fixture
def history(store, clock, make_engine) -> History:
    return History(store, clock, make_engine).build()


def test_state_changes_older_than_the_retention_go_and_younger_ones_stay(history):
    assert {t.at < CUTOFF for t in rows(history.store, alert_transitions)} == {True, False}
    run_prune(history)
    left = rows(history.store, alert_transitions)
    assert left and all(t.at >= CUTOFF for t in left)
    assert {t.alert_key for t in left} == {k for k in {r.alert_key for r in rows(history.store, alert_state)}
                                           if "web" in k}


def test_routed_events_older_than_the_retention_go_and_younger_ones_stay(history):
    run_prune(history)
    left = rows(history.store, alert_events)
    assert left and all(e.at >= CUTOFF and e.processed_at is not None for e in left)
    assert sorted(e.event for e in left) == ["firing", "resolved"]


def test_an_event_still_to_be_routed_stays_whatever_its_age(store, clock, make_engine):
    h = History(store, clock, make_engine)
    for when, target, value in ((T0, "db", 5.0), (T0 + 60, "db", 0.0), (YOUNG, "web", 5.0)):
        clock.now = when  # db fires and resolves, web fires; the notifier never runs
        put(store, clock, value, target=target)
        h.engine.evaluate()
    assert prune(store, RETENTION, NOW)["alert_events"] == 0
    assert [e.event for e in rows(store, alert_events)] == ["firing", "resolved", "firing"]
    # Resolved long ago, but the router still needs the alert's resolve: it stays too.
    assert [s.state for s in rows(store, alert_state)] == ["ok", "firing"]
    h.notifier.route(now=NOW)
    counts = prune(store, RETENTION, NOW)
    assert counts["alert_events"] == 0  # routed just now
    assert counts["alert_state"] == 1


def test_sent_and_dead_lettered_notifications_older_than_the_retention_go_with_their_attempts(history):
    old = [r for r in rows(history.store, outbox) if r.status in ("sent", "dead") and r.created_at < CUTOFF]
    assert {r.status for r in old} == {"sent", "dead"}
    counts = run_prune(history)
    left = {r.id for r in rows(history.store, outbox)}
    assert not left & {r.id for r in old}
    assert counts["outbox"] == len(old)
    assert not {a.outbox_id for a in rows(history.store, delivery_attempts)} - left


def test_a_pending_notification_older_than_the_retention_stays_with_its_attempts(history):
    pending = [r for r in rows(history.store, outbox) if r.status == "pending" and r.created_at < CUTOFF]
    assert pending and all(r.receiver == "slow" for r in pending)
    run_prune(history)
    after = {r.id: r for r in rows(history.store, outbox)}
    assert all(after[r.id].status == "pending" for r in pending)
    attempts = {a.outbox_id for a in rows(history.store, delivery_attempts)}
    assert all(r.id in attempts for r in pending if r.attempts)


def test_the_dead_letter_view_still_shows_dead_letters_younger_than_the_retention(history):
    before = history.notifier.outbox_rows(status="dead")
    young = [r["id"] for r in before if r["dead_at"] >= CUTOFF]
    assert young and len(young) < len(before)
    run_prune(history)
    assert [r["id"] for r in history.notifier.outbox_rows(status="dead")] == young


def test_a_resolved_alert_goes_once_its_last_change_is_older_than_the_retention(history):
    keys = {history.alert_id(t): t for t in ("db", "api", "web")}
    run_prune(history)
    assert {keys[s.id] for s in rows(history.store, alert_state)} == {"api", "web"}


def test_an_alert_firing_since_before_the_retention_stays(history):
    api = history.alert_id("api")
    run_prune(history)
    [row] = [s for s in rows(history.store, alert_state) if s.id == api]
    assert row.state == "firing" and row.last_change < CUTOFF


def test_acks_of_pruned_alerts_go_and_acks_of_kept_alerts_stay(history):
    db, api, web = (history.alert_id(t) for t in ("db", "api", "web"))
    run_prune(history)
    assert sorted(a.alert_id for a in rows(history.store, acks)) == sorted([api, web])
    assert db not in {s.id for s in rows(history.store, alert_state)}


def test_silences_that_ended_before_the_retention_go(history):
    run_prune(history)
    assert sorted(s.comment for s in rows(history.store, silences)) == ["again", "long job"]


def test_sink_messages_older_than_the_retention_go(history):
    assert any(m.created_at < CUTOFF for m in rows(history.store, sink_messages))
    run_prune(history)
    left = rows(history.store, sink_messages)
    assert left and all(m.created_at >= CUTOFF for m in left)


def test_closed_notification_groups_go_unless_a_message_is_still_queued(history):
    run_prune(history)
    groups = {(g.receiver, "db" if '"db"' in g.group_key else "api" if '"api"' in g.group_key else
               "web" if '"web"' in g.group_key else "other") for g in rows(history.store, notify_groups)}
    # db's: closed and idle for the retention, except 'slow' whose messages are still pending.
    assert ("slow", "db") in groups and ("sink", "db") not in groups and ("pager", "db") not in groups
    assert {("sink", "api"), ("sink", "web"), ("pager", "web")} <= groups
    told = {(a.receiver, a.open) for a in rows(history.store, notify_alerts) if "db" in a.alert_key}
    assert told == set()
    assert {a.receiver for a in rows(history.store, notify_alerts) if "api" in a.alert_key and a.open} \
        == {"sink", "pager", "slow"}


def test_the_notification_state_of_a_receiver_removed_from_the_config_ages_out(history):
    def open_api(receiver: str) -> bool:
        return any(a.receiver == receiver and a.open and '"api"' in a.alert_key
                   for a in rows(history.store, notify_alerts))
    assert open_api("pager") and open_api("sink")
    run_prune(history, receivers=["sink", "slow"])  # 'pager' is no longer configured
    assert not open_api("pager")  # nothing will be sent to it again: its rows go once old
    assert open_api("sink") and open_api("slow")  # still firing for configured receivers: kept


def test_pruning_twice_is_a_no_op(history):
    assert sum(run_prune(history).values()) > 0
    tables = (alert_transitions, alert_events, alert_state, acks, silences, outbox, delivery_attempts,
              notify_groups, notify_alerts, sink_messages)
    before = {t.name: rows(history.store, t) for t in tables}
    assert set(run_prune(history).values()) == {0}
    assert {t.name: rows(history.store, t) for t in tables} == before


def test_small_chunks_prune_as_much_as_one_big_one(history, store):
    counts = run_prune(history, chunk=1)
    assert counts["alert_transitions"] == 5 and counts["alert_events"] == 3
    assert not [t for t in rows(store, alert_transitions) if t.at < CUTOFF]


def test_the_newest_row_of_a_table_stays_so_its_id_is_never_handed_out_again(store, make_engine):
    make_engine(alerting())  # creates the alerting tables
    with writer_of(store).begin() as conn:
        conn.execute(insert(alert_transitions), [
            {"alert_id": 1, "alert_key": "k", "rule": "r", "at": T0 + i, "from_state": "ok", "to_state": "pending"}
            for i in range(3)])
    assert prune(store, RETENTION, NOW)["alert_transitions"] == 2
    assert [t.at for t in rows(store, alert_transitions)] == [T0 + 2]


def test_it_logs_one_line_with_the_counts(history, caplog):
    with caplog.at_level(logging.INFO, logger="lookout.alerts"):
        run_prune(history)
        run_prune(history)
    [line] = [r.getMessage() for r in caplog.records if "pruned" in r.getMessage()]
    assert line.startswith("pruned alert history older than 90d: 5 alert_transitions, 3 alert_events")


# -- wiring -------------------------------------------------------------------------------


class Scheduler:
    def __init__(self) -> None:
        self.jobs: dict[str, tuple[Any, float]] = {}

    def add_periodic(self, job_id: str, func: Any, seconds: float) -> None:
        self.jobs[job_id] = (func, seconds)


def runtime(store: Any, clock: Any, **alerting_extra: Any) -> SimpleNamespace:
    config = SimpleNamespace(alerting=alerting(rule(), **alerting_extra), targets=[], server=None)
    return SimpleNamespace(config=config, store=store, clock=clock, alert_engine=None, notifier=None, cluster=None,
                           scheduler=Scheduler(),
                           pipeline=SimpleNamespace(add_listener=lambda fn: None))


def test_the_scheduler_prunes_hourly_with_the_configured_retention(store, clock):
    rt = runtime(store, clock, history_retention=DAY)
    wiring.attach(rt)
    job, seconds = rt.scheduler.jobs["alerts:prune"]
    assert seconds == PRUNE_SECONDS == 3600.0
    with writer_of(store).begin() as conn:
        conn.execute(insert(silences), [{"matchers": "[]", "starts_at": T0 - 2 * DAY, "ends_at": end,
                                         "author": "a", "comment": "c", "created_at": T0 - 2 * DAY}
                                        for end in (T0 - 2 * DAY, T0 - 2 * DAY + 1, T0 - 1)])
    job()
    assert [s.ends_at for s in rows(store, silences)] == [T0 - 1]


def test_a_store_outage_is_one_warning_line_not_a_crash(store, clock, monkeypatch, caplog):
    monkeypatch.setattr(wiring, "_store_down", set())
    rt = runtime(store, clock)
    wiring.attach(rt)
    job, _ = rt.scheduler.jobs["alerts:prune"]
    rt.store = SimpleNamespace(engine=create_store_engine("postgresql+psycopg://lookout@127.0.0.1:1/gone"))
    with caplog.at_level(logging.INFO, logger="lookout.alerts"):
        job()
        job()
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if "pruning" in r.getMessage()]
    assert len(lines) == 1 and lines[0][0] == "WARNING"
    assert lines[0][1].startswith("alert history pruning skipped while the store is unavailable")
    assert not [r for r in caplog.records if r.exc_info]
