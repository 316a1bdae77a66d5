"""Payments in the application's own tables become a sql target, and the payment promise and rule
read the outcomes the table really holds."""
from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from tests.discover.helpers import discover_and_collect, missing_claims
from tests.pg import libpq_dsn


@pytest.fixture(scope="module")
def orders_dsn(pg_server) -> Iterator[str]:
    """A shop whose orders say captured or declined, in a schema of its own, and no payments table."""
    url = pg_server.create("lookout_discover_orders")
    dsn = libpq_dsn(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA shop")
        conn.execute("CREATE TABLE shop.orders (id serial PRIMARY KEY, state text NOT NULL)")
        conn.execute("INSERT INTO shop.orders (state) SELECT CASE WHEN i % 10 = 0 THEN 'declined' "
                     "WHEN i = 1 THEN 'pending' ELSE 'captured' END FROM generate_series(1, 40) AS i")
    yield dsn
    pg_server.drop(url)


def test_orders_with_their_own_status_names_become_the_payment_promise(tmp_path, orders_dsn):
    run = discover_and_collect(tmp_path, postgres_dsn=orders_dsn)

    pay = run.found.postgres.payments
    assert (pay.qualified, pay.column, pay.good, pay.bad) == ("shop.orders", "state", ["captured"], ["declined"])
    business = run.config.target("business")
    assert business.queries[0].sql == "SELECT state AS status, count(*) FROM shop.orders GROUP BY 1"
    promise = {p.id: p for p in run.config.promises.objectives}["payment_success"]
    assert promise.enabled and [s.match for s in promise.events.good] == [{"status": "captured"}]
    counts = {s.labels["status"]: s.value for s in run.samples("business") if s.name == "shop_payments_total"}
    assert counts == {"captured": 35.0, "declined": 4.0, "pending": 1.0}
    assert missing_claims(run) == []


def test_a_database_without_payments_says_so_and_leaves_the_promise_off(tmp_path, shop_dsn, pg_server):
    # the demo shop's schema has payments: a database of its own without them
    url = pg_server.create("lookout_discover_empty")
    try:
        run = discover_and_collect(tmp_path, postgres_dsn=libpq_dsn(url))
    finally:
        pg_server.drop(url)

    missing = [text for part, ok, text in run.found.notes.lines if part == "postgres" and not ok]
    assert any(text.startswith("no table named payments, payment, transactions, charges, orders") for text in missing)
    assert not {p.id: p for p in run.config.promises.objectives}["payment_success"].enabled
    assert "business" not in {t.name for t in run.config.targets}
    assert missing_claims(run) == []


def test_pgbouncer_pools_give_the_pool_promise_its_series(tmp_path, pgbouncer_admin_dsn):
    client = pgbouncer_admin_dsn.rsplit("/", 1)[0] + "/postgres"

    def traffic() -> None:  # a client through PgBouncer, so it has a pool besides its console
        with psycopg.connect(client, prepare_threshold=None) as conn:
            conn.execute("SELECT 1")

    run = discover_and_collect(tmp_path, traffic, pgbouncer_dsn=pgbouncer_admin_dsn)

    assert run.found.pgbouncer is not None and run.found.pgbouncer.version.startswith("PgBouncer")
    assert run.config.target("pool").pgbouncer.dsn == pgbouncer_admin_dsn
    assert run.last("pool").up, run.last("pool").error
    assert {p.id: p for p in run.config.promises.objectives}["pool_utilisation"].enabled
    assert any(s.name == "lookout_pool_utilization_ratio" and s.labels["pool"] == "pgbouncer/postgres/postgres"
               for s in run.samples("pool"))
    assert missing_claims(run) == []
