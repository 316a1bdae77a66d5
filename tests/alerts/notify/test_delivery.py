"""Slack and email delivery through the outbox against real local servers."""
from __future__ import annotations

import json
import threading
import time

from sqlalchemy import select, update

from alerts.notify.schema import delivery_attempts, outbox
from alerts.schema import writer_of
from tests.alerts.notify.conftest import (
    drain,
    make_notifier,
    notifications,
    record_event,
)


def _rows(db):
    with db.engine.connect() as conn:
        return conn.execute(select(outbox).order_by(outbox.c.id)).all()


def _slack_text(body) -> str:
    return json.dumps(body)


def test_an_event_produces_exactly_one_slack_message_with_value_thresholds_since_and_links(db, webhook):
    n = make_notifier(notifications(webhook), db)
    since = time.time() - 300
    alert_id = record_event(db, "firing", value=0.12, firing_since=since, at=since + 240)
    drain(n, lambda: len(webhook.delivered) == 1)
    n.route(), n.dispatch()
    assert len(webhook.requests) == 1
    body = webhook.delivered[0]
    att = body["attachments"][0]
    text = _slack_text(body)
    assert att["color"] == "#D00000"
    assert body["text"].startswith("[FIRING] payment_failure_ratio (critical)")
    assert "value 0.12 > critical 0.1 (warning > 0.05, clears at 0.04)" in text
    assert "since " in text and "(5m" in text
    assert "`team=payments`" in text and "`target=shop-db`" in text
    buttons = {b["text"]["text"]: b["url"] for blk in att["blocks"] if blk["type"] == "actions"
               for b in blk["elements"]}
    assert buttons["Runbook"] == "https://runbooks.example.com/payments"
    assert buttons["Dashboard"].startswith(f"https://lookout.example.com/alerts?from={int(since) - 1800}")
    assert f"alert={alert_id}" in buttons["Dashboard"]
    assert buttons["Acknowledge"].startswith("https://lookout.example.com/ack/")
    assert n.verify_ack_token(buttons["Acknowledge"].rsplit("/", 1)[1])[0] == alert_id


def test_an_event_produces_exactly_one_threaded_email_for_all_recipients(db, smtp):
    n = make_notifier(notifications(smtp=smtp), db)
    alert_id = record_event(db, "firing", value=0.12)
    drain(n, lambda: len(smtp.messages) == 1)
    record_event(db, "resolved", value=0.01)
    drain(n, lambda: len(smtp.messages) == 2)
    first, second = smtp.messages
    assert smtp.envelopes[0] == ("lookout@example.com", ["oncall@example.com", "db-team@example.com"])
    # strip(): a subject folded right after "Subject:" parses back with the fold's space in front
    assert first["Subject"].strip() == "[Lookout] [FIRING] payment_failure_ratio (target=shop-db, team=payments)"
    assert second["Subject"].strip() == "[Lookout] [RESOLVED] payment_failure_ratio (target=shop-db, team=payments)"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["In-Reply-To"] is None
    assert second["In-Reply-To"] == first["Message-ID"] and second["References"] == first["Message-ID"]
    assert second["Message-ID"] != first["Message-ID"]
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert "value 0.12 > critical 0.1" in text and "value 0.12 &gt; critical 0.1" in html
    assert "Labels: severity=critical, target=shop-db, team=payments" in text
    assert "Acknowledge: https://lookout.example.com/ack/" in text
    assert f"alert={alert_id}" in text
    assert second.get_body(("plain",)).get_content().startswith("[RESOLVED] payment_failure_ratio")


def test_slack_answering_429_and_500_delays_but_loses_nothing_and_keeps_order(db, webhook):
    webhook.script = [(429, {"Retry-After": "1"}), 500, 500]
    n = make_notifier(notifications(webhook), db)
    record_event(db, "firing", labels={"target": "db-a"})
    n.route(), n.dispatch()  # 429: the head row now waits >= 1 s
    record_event(db, "firing", labels={"target": "db-b"})
    record_event(db, "firing", labels={"target": "db-c"})
    drain(n, lambda: len(webhook.delivered) == 3)
    assert [r.status for r in webhook.requests] == [429, 500, 500, 200, 200, 200]
    assert webhook.requests[1].at - webhook.requests[0].at >= 0.95  # Retry-After honoured
    targets = [next(t for t in ("db-a", "db-b", "db-c") if t in json.dumps(b)) for b in webhook.delivered]
    assert targets == ["db-a", "db-b", "db-c"]
    assert all(r.status == "sent" for r in _rows(db))
    with db.engine.connect() as conn:
        outcomes = [a.outcome for a in conn.execute(select(delivery_attempts).order_by(delivery_attempts.c.id))]
    assert outcomes[:3] == ["transient"] * 3


def test_slack_answering_404_dead_letters_the_row_and_a_self_alert_goes_to_email(db, webhook, smtp):
    webhook.script = [404]
    n = make_notifier(notifications(webhook, smtp), db)
    record_event(db, "firing")
    drain(n, lambda: len(smtp.messages) == 2)
    assert len(webhook.requests) == 1  # permanent: no retry
    slack_row = next(r for r in _rows(db) if r.receiver == "slack")
    assert slack_row.status == "dead" and "404" in slack_row.last_error
    failed = [m for m in smtp.messages if "lookout_notification_failed" in m["Subject"]]
    assert len(failed) == 1
    assert "could not deliver 1 notification(s) to slack" in failed[0].get_body(("plain",)).get_content()
    assert [r["status"] for r in n.outbox_rows(status="dead")] == ["dead"]


def test_the_mail_server_down_then_up_delivers_from_the_outbox(db, smtp):
    n = make_notifier(notifications(smtp=smtp), db)
    smtp.stop()
    record_event(db, "firing")
    for _ in range(3):
        n.route(), n.dispatch()
        time.sleep(0.1)
    row = _rows(db)[0]
    assert row.status == "pending" and row.attempts >= 1 and "unreachable" in row.last_error
    smtp.start()
    drain(n, lambda: len(smtp.messages) == 1)
    assert _rows(db)[0].status == "sent"


def test_a_resolve_queued_behind_its_firing_goes_out_with_it_and_after_it(db, webhook):
    webhook.script = [500]
    n = make_notifier(notifications(webhook), db)
    record_event(db, "firing")
    n.route(), n.dispatch()
    record_event(db, "resolved", value=0.01)
    drain(n, lambda: len(webhook.delivered) == 1)
    text = webhook.delivered[0]["text"]
    assert text.startswith("[RESOLVED] payment_failure_ratio")
    assert text.index("- [FIRING] payment_failure_ratio (critical)") < text.index("- [RESOLVED]")


def test_a_new_notifier_on_the_same_store_sends_no_duplicate_and_still_sends_the_resolve(db, webhook):
    first = make_notifier(notifications(webhook), db)
    record_event(db, "firing")
    drain(first, lambda: len(webhook.delivered) == 1)
    first.close()
    second = make_notifier(notifications(webhook), db)  # "restarted" process
    for _ in range(3):
        second.route(), second.dispatch()
    assert len(webhook.requests) == 1
    record_event(db, "resolved", value=0.01)
    drain(second, lambda: len(webhook.delivered) == 2)
    assert webhook.delivered[1]["text"].startswith("[RESOLVED]")


def test_a_row_left_sending_by_a_dead_dispatcher_is_sent_again_after_its_lease(db, webhook):
    n = make_notifier(notifications(webhook), db)
    record_event(db, "firing")
    n.route()
    now = time.time()
    with writer_of(db).begin() as conn:  # the state a crash between claim and send leaves
        conn.execute(update(outbox).values(status="sending", attempts=1, claimed_by="dead:1",
                                           lease_until=now + 60, version=outbox.c.version + 1))
    assert n.dispatch() == 0 and webhook.requests == []
    assert n.dispatch(now=now + 61) == 1
    assert len(webhook.delivered) == 1 and _rows(db)[0].status == "sent"


def test_two_dispatchers_racing_never_send_one_row_twice(db, webhook):
    a = make_notifier(notifications(webhook), db)
    b = make_notifier(notifications(webhook), db)
    for i in range(6):
        record_event(db, "firing", labels={"target": f"db-{i}"})
    a.route()
    barrier = threading.Barrier(2)

    def run(n):
        barrier.wait()
        for _ in range(10):
            n.dispatch()

    threads = [threading.Thread(target=run, args=(x,)) for x in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(webhook.delivered) == 6
    assert len({json.dumps(body) for body in webhook.delivered}) == 6
