from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from collectors.sql import SqlCollector, SqlTarget
from composition.config import parse_config
from core.errors import ConfigError
from tests.conftest import libpq_dsn

ORDERS = [  # (amount, minutes ago, category)
    (Decimal("19.99"), 5, "books"), (Decimal("5.00"), 20, "books"), (Decimal("120.50"), 30, "garden"),
    (Decimal("42.00"), 90, "garden"), (Decimal("7.25"), 200, "toys"),
]
PAYMENTS = ["ok", "ok", "failed", "ok", "failed", "ok", "ok", "ok"]  # all within the last 15 minutes


@pytest.fixture(autouse=True)
def _collectors_closed(monkeypatch, make_pg_database):  # torn down before the databases
    """Every collector a test makes is closed after it, so no connection outlives its test."""
    made: list[SqlCollector] = []
    init = SqlCollector.__init__

    def tracked(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(SqlCollector, "__init__", tracked)
    yield
    for c in made:
        c.close()


@pytest.fixture
def shop(make_pg_database) -> str:
    url = make_pg_database("lookout_sql")
    with psycopg.connect(libpq_dsn(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial, amount numeric(10,2), category text, created_at timestamptz)")
        conn.execute("CREATE TABLE payments (id serial, status text, created_at timestamptz)")
        for amount, ago, cat in ORDERS:
            conn.execute("INSERT INTO orders (amount, category, created_at) "
                         "VALUES (%s, %s, now() - make_interval(mins => %s))", (amount, cat, ago))
        for status in PAYMENTS:
            conn.execute("INSERT INTO payments (status, created_at) VALUES (%s, now() - interval '1 minute')",
                         (status,))
    return url


def q(name: str, sql: str, metric: str | None = None, **kw) -> dict:
    return {"name": name, "sql": sql, "metric": metric or f"shop_{name}", "help": f"{name} help", **kw}


def target(url: str, *queries: dict, **kw) -> SqlTarget:
    return SqlTarget(name="shop", url=url, interval=10.0, timeout=4.0, queries=list(queries), **kw)


def by(batch, name: str) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value for s in batch.samples if s.name == name}


REVENUE_HOUR = q("revenue_last_hour", "SELECT coalesce(sum(amount), 0) FROM orders "
                 "WHERE created_at > now() - interval '1 hour' AND category LIKE '%'")  # '%' is no placeholder
REVENUE_BY_CAT = q("revenue_by_category", "SELECT category, sum(amount) AS revenue FROM orders GROUP BY category",
                   metric="shop_revenue_total", kind="counter")
FAILURE_RATIO = q("payment_failure_ratio", "SELECT coalesce(avg((status = 'failed')::int), 0) FROM payments "
                  "WHERE created_at > now() - interval '15 minutes'")


def test_revenue_and_failure_ratio_match_the_rows(shop):
    batch = SqlCollector(target(shop, REVENUE_HOUR, REVENUE_BY_CAT, FAILURE_RATIO)).run()
    assert batch.up, batch.error
    hour = float(sum(a for a, ago, _ in ORDERS if ago < 60))
    assert by(batch, "shop_revenue_last_hour") == {(): pytest.approx(hour)}
    per_cat: dict[str, float] = {}
    for amount, _, cat in ORDERS:
        per_cat[cat] = per_cat.get(cat, 0.0) + float(amount)
    assert by(batch, "shop_revenue_total") == {(("category", c),): pytest.approx(v) for c, v in per_cat.items()}
    assert by(batch, "shop_payment_failure_ratio") == {(): pytest.approx(PAYMENTS.count("failed") / len(PAYMENTS))}
    assert {s.kind for s in batch.samples if s.name == "shop_revenue_total"} == {"counter"}
    assert set(by(batch, "lookout_sql_query_up").values()) == {1.0}


@pytest.mark.parametrize("sql, words", [
    ("SELECT category FROM orders LIMIT 1", "is str 'books', not a number"),
    ("SELECT 1 WHERE false", "returned no rows"),
    ("SELECT amount FROM orders", "returned 5 rows of one column"),
    ("SELECT NULL::numeric", "is NULL"),
    ("SELECT generate_series(1, 20)::text AS n, 1", "more than max_rows=10"),
])
def test_a_wrong_shape_is_a_clear_error_naming_the_query(shop, sql, words):
    batch = SqlCollector(target(shop, q("bad", sql, max_rows=10), REVENUE_HOUR)).run()
    assert batch.up  # the database was reachable
    err = batch.documents["sql_queries"]["bad"]["error"]
    assert err.startswith("query 'bad': ") and words in err
    assert by(batch, "lookout_sql_query_up") == {(("query", "bad"),): 0.0, (("query", "revenue_last_hour"),): 1.0}
    assert by(batch, "shop_revenue_last_hour")


def test_statement_timeout_cancels_a_slow_query_and_the_others_still_report(shop):
    slow = q("slow", "SELECT 1 FROM pg_sleep(3)", timeout=0.3)
    batch = SqlCollector(target(shop, slow, FAILURE_RATIO)).run()
    assert batch.up and batch.duration < 2
    assert "cancelled after 0.3s by statement_timeout" in batch.documents["sql_queries"]["slow"]["error"]
    assert by(batch, "lookout_sql_query_up")[(("query", "slow"),)] == 0.0
    assert by(batch, "shop_payment_failure_ratio")


def test_queries_run_in_a_read_only_transaction_as_lookout(shop):
    sql = ("SELECT current_setting('transaction_read_only') || '/' || current_setting('application_name') AS s, 1")
    batch = SqlCollector(target(shop, q("settings", sql))).run()
    assert by(batch, "shop_settings") == {(("s", "on/lookout"),): 1.0}


def test_a_write_that_slips_past_the_check_is_refused_by_the_database(shop):
    # A function that writes is not caught by the text check; the read-only transaction stops it.
    with psycopg.connect(libpq_dsn(shop), autocommit=True) as conn:
        conn.execute("CREATE FUNCTION bump() RETURNS int LANGUAGE sql AS "
                     "$$ INSERT INTO orders (amount) VALUES (1) RETURNING 1 $$")
    batch = SqlCollector(target(shop, q("sneaky", "SELECT bump()"))).run()
    assert "read-only transaction" in batch.documents["sql_queries"]["sneaky"]["error"]


def test_a_query_runs_only_when_due_and_is_carried_in_between(shop):
    now = [1000.0]
    c = SqlCollector(target(shop, q("hourly", "SELECT 1", interval=3600.0), REVENUE_HOUR), clock=lambda: now[0])
    c.run()
    now[0] += 10
    second = c.run()
    assert "shop_hourly" not in {s.name for s in second.samples}
    assert {s.name for s in second.carried} >= {"shop_hourly", "lookout_sql_query_up"}
    assert by(second, "shop_revenue_last_hour")


def test_an_unreachable_database_takes_the_target_down_without_the_password():
    batch = SqlCollector(target("postgresql+psycopg://u:pw-secret-9@127.0.0.1:1/x", REVENUE_HOUR)).run()
    assert not batch.up and "pw-secret-9" not in batch.error and batch.error.startswith("database ")


def test_sqlite_works_too(tmp_path):
    import sqlite3
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (amount REAL)")
        conn.executemany("INSERT INTO orders VALUES (?)", [(2.5,), (4.0,)])
    batch = SqlCollector(target(f"sqlite:///{path}", q("revenue", "SELECT sum(amount) FROM orders"))).run()
    assert by(batch, "shop_revenue") == {(): 6.5}


def config_with(sql: str, name: str = "danger", metric: str = "shop_x") -> str:
    return ("targets:\n  - name: shop\n    kind: sql\n    url: postgresql+psycopg://u:${PW}@db/shop\n"
            f"    queries:\n      - name: {name}\n        metric: {metric}\n        help: h\n"
            f"        sql: \"{sql}\"\n")


@pytest.mark.parametrize("sql, words", [
    ("SELECT 1; DELETE FROM orders", "must be ONE statement"),
    ("DELETE FROM orders", "not DELETE"),
    ("UPDATE orders SET amount = 0", "not UPDATE"),
    ("WITH d AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM d", "DELETE is not allowed"),
    ("SELECT * INTO copy_of_orders FROM orders", "INTO is not allowed"),
    ("/* hi */ DROP TABLE orders", "not DROP"),
])
def test_writes_and_several_statements_are_refused_at_config_load_naming_the_query(sql, words):
    with pytest.raises(ConfigError) as err:
        parse_config(config_with(sql), env={"PW": "x"})
    assert "query 'danger'" in str(err.value) and words in str(err.value)


def test_semicolons_and_keywords_inside_strings_and_comments_are_not_statements():
    cfg = parse_config(config_with("SELECT count(*) FROM orders WHERE note <> ';delete' -- ; update"),
                       env={"PW": "x"})
    assert cfg.targets[0].queries[0].name == "danger"


@pytest.mark.parametrize("metric", ["shop-revenue", "1shop", "shop revenue"])
def test_an_invalid_metric_name_is_refused_at_config_load(metric):
    with pytest.raises(ConfigError, match="not a valid Prometheus metric name"):
        parse_config(config_with("SELECT 1", metric=metric), env={"PW": "x"})
