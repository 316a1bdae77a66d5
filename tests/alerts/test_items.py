"""``{items}``: an alert's message names the findings behind its count (issue 16, item 6).

The end-to-end case polls a real database with the real collector (``databases:`` set),
stores the batch, evaluates the real engine and reads the messages as the local Slack
webhook and SMTP servers receive them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
import yaml

from alerts.config import AlertingConfig, Rule
from alerts.engine import AlertEngine
from alerts.items import ItemsSpec, render
from collectors.postgres import PostgresCollector, PostgresTarget
from core.units import format_value
from store import Store
from tests.alerts.notify.conftest import make_notifier, notifications
from tests.alerts.notify.servers import SmtpServer, self_signed_cert
from tests.conftest import libpq_dsn
from tests.support import FakeClock

ROOT = Path(__file__).resolve().parents[2]
DUPLICATES = {"name": "pg_duplicate_indexes", "expr": {"metric": "lookout_pg_duplicate_indexes", "window": 900.0},
              "warning": 0, "items": {"document": "pg_index_audit", "kind": "duplicate", "limit": 5},
              "annotations": {"summary": "{value} duplicate index(es) in {labels[datname]}: {items}"}}


def audit(*dbs: tuple[str, list[dict[str, Any]]]) -> SimpleNamespace:
    """A pg_index_audit document of target shop-db as the collector stores it: per database."""
    return SimpleNamespace(target="shop-db", body={db: {"duplicate": dup, "unused": [], "invalid": []}
                                                   for db, dup in dbs})


def dup(index: str, covered_by: str = "orders_status_idx", size: float = 8192.0) -> dict[str, Any]:
    return {"schemaname": "public", "table": "orders", "index": index, "covered_by": covered_by,
            "size_bytes": size, "idx_scan": 0}


def rule_error(**changes: Any) -> str:
    with pytest.raises(ValueError) as exc:
        Rule.model_validate({**DUPLICATES, **changes})
    return str(exc.value)


# -- naming the document, at config load -------------------------------------------------------

def test_a_misspelt_document_is_refused_naming_the_key_and_the_known_documents():
    msg = rule_error(items={"document": "pg_index_audt", "kind": "duplicate"})
    assert "rule 'pg_duplicate_indexes': items.document: unknown document 'pg_index_audt'" in msg
    assert "known: pg_index_audit, pg_sequences" in msg


def test_a_missing_or_unknown_kind_is_refused_with_the_kinds_of_the_document():
    assert "items: kind is missing: pg_index_audit has duplicate, unused, invalid" in \
        rule_error(items={"document": "pg_index_audit"})
    assert "items: kind 'dupe' is unknown" in rule_error(items={"document": "pg_index_audit", "kind": "dupe"})


def test_items_in_a_template_without_items_on_the_rule_is_refused():
    msg = rule_error(items=None)
    assert "annotations.summary: {items} needs the rule's `items:`" in msg


def test_a_limit_outside_1_to_50_is_refused():
    assert "items.limit" in rule_error(items={"document": "pg_index_audit", "kind": "duplicate", "limit": 0})


def test_the_shipped_rules_name_the_index_audit_and_load():
    for path, section in ((ROOT / "alerts" / "default_rules.yaml", None), (ROOT / "config.yaml", "alerting")):
        data = yaml.safe_load(path.read_text())
        data = data[section] if section else data
        data = {"rules": data["rules"]}
        rules = {r.name: r for r in AlertingConfig.model_validate(data, context={"from_file": True}).rules}
        assert rules["pg_duplicate_indexes"].items == ItemsSpec(document="pg_index_audit", kind="duplicate")
        assert rules["pg_unused_indexes"].items == ItemsSpec(document="pg_index_audit", kind="unused")


# -- which items, how they read ------------------------------------------------------------------

def test_an_alert_on_one_database_lists_only_that_databases_items():
    spec = ItemsSpec(document="pg_index_audit", kind="duplicate")
    docs = [audit(("shop", [dup("orders_status_idx2")]), ("crm", [dup("leads_idx2", "leads_idx")]))]
    assert render(spec, {"target": "shop-db", "datname": "shop"}, docs) == \
        "shop.public.orders_status_idx2 on orders (8.0 KiB, 0 scans) duplicates orders_status_idx"
    both = render(spec, {"target": "shop-db"}, docs)  # summed by target: every database, by name
    assert both.startswith("crm.public.leads_idx2") and "; shop.public.orders_status_idx2" in both


def test_items_past_the_limit_are_counted_not_listed():
    spec = ItemsSpec(document="pg_index_audit", kind="duplicate", limit=2)
    docs = [audit(("shop", [dup(f"i{n}") for n in range(5)]))]
    text = render(spec, {"target": "shop-db", "datname": "shop"}, docs)
    assert text.count("duplicates") == 2 and text.endswith(" (and 3 more)")


def test_no_items_reads_none_and_no_document_says_so():
    spec = ItemsSpec(document="pg_index_audit", kind="duplicate")
    assert render(spec, {"target": "shop-db", "datname": "shop"}, [audit(("shop", []))]) == "none"
    assert render(spec, {"target": "shop-db", "datname": "shop"}, []) == "(no pg_index_audit reported yet)"
    assert render(spec, {"target": "other-db"}, [audit(("shop", [dup("x")]))]) == "(no pg_index_audit reported yet)"


def test_sequences_read_with_their_used_share():
    spec = ItemsSpec(document="pg_sequences")
    doc = SimpleNamespace(target="shop-db", body={"shop": [{"schemaname": "public", "sequencename": "orders_id_seq",
                                                            "used_ratio": 0.85}]})
    assert render(spec, {"target": "shop-db", "datname": "shop"}, [doc]) == \
        "shop.public.orders_id_seq at 85.0 % of its range"


# -- end to end: a real database, the real collector, engine and notifier ----------------------------

@pytest.fixture
def smtp(tmp_path) -> Iterator[SmtpServer]:
    cert, key = self_signed_cert(tmp_path)
    server = SmtpServer(cert=cert, key=key)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shop_db(make_pg_database) -> str:
    dsn = libpq_dsn(make_pg_database("lookout_items"))
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, note text)")
        conn.execute("INSERT INTO orders SELECT g, 'paid', 'n' || g FROM generate_series(1, 500) g")
        conn.execute("CREATE INDEX orders_status_idx ON orders (status)")
        conn.execute("CREATE INDEX orders_status_idx2 ON orders (status)")
        conn.execute("CREATE INDEX orders_note_idx ON orders (note)")
    return dsn


def test_the_duplicate_index_alert_names_the_index_its_table_size_and_scans_in_slack_and_email(
        shop_db, tmp_path, webhook, smtp):
    db = psycopg.conninfo.conninfo_to_dict(shop_db)["dbname"]
    with psycopg.connect(shop_db) as conn:
        size = conn.execute("SELECT pg_relation_size('orders_status_idx2')").fetchone()[0]
    target = PostgresTarget(name="shop-db", dsn=shop_db, databases=[db], interval=15, timeout=10,
                            families=["instance", "indexes"], unused_index_min_bytes=0)
    collector = PostgresCollector(target)
    try:
        batch = collector.run()
    finally:
        collector.close()
    assert batch.up, batch.error
    clock = FakeClock(batch.started_at)
    store = Store(f"sqlite:///{tmp_path / 'lookout.db'}", clock=clock)
    store.migrate()
    batch.samples = [replace(s, labels={**s.labels, "target": "shop-db"}) for s in batch.samples]
    store.write_batch(batch)
    engine = AlertEngine(AlertingConfig.model_validate({"rules": [DUPLICATES]}), store, clock=clock)
    engine.migrate()
    notifier = make_notifier(notifications(webhook, smtp), store, clock=clock)
    try:
        for _ in range(2):
            engine.evaluate()
            notifier.route()
            notifier.dispatch()
            clock.advance(15)
    finally:
        notifier.close()
        store.close()
    line = (f"{db}.public.orders_status_idx2 on orders ({format_value(float(size), 'bytes')}, 0 scans) "
            "duplicates orders_status_idx")
    [body] = webhook.delivered
    slack = str(body)
    assert f"1 duplicate index(es) in {db}: {line}" in slack
    [msg] = smtp.messages
    assert line in str(msg.get_body(("plain",)).get_content())
