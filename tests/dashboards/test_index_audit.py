"""The PostgreSQL page's Index audit and Database sizes with `databases:` set (issue 16, item 6).

A real database on the test PostgreSQL with a duplicate and an unused index, polled by the
real collector watching only that database; the batch goes through the real pipeline into a
SQLite store, and the page's refresh callback renders the panels as the browser gets them.
"""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest
from dash import Dash

from collectors.postgres import PostgresCollector
from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Sample
from dashboards.pages import postgres
from store import Store
from tests.conftest import libpq_dsn


def make_shop(dsn: str) -> None:
    """orders with a duplicate index (orders_status_idx2 repeats orders_status_idx) and an unused one."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, status text, note text)")
        conn.execute("INSERT INTO orders SELECT g, 'paid', 'n' || g FROM generate_series(1, 500) g")
        conn.execute("CREATE INDEX orders_status_idx ON orders (status)")
        conn.execute("CREATE INDEX orders_status_idx2 ON orders (status)")
        conn.execute("CREATE INDEX orders_note_idx ON orders (note)")


def config_for(dsn: str, dbname: str) -> str:
    return f"""\
targets:
  - name: shop-db
    kind: postgres
    dsn: "{dsn}"
    databases: [{dbname}]
    families: [instance, sizes, indexes]
    unused_index_min_bytes: 0
"""


def text_of(component: Any) -> str:
    """Every string a Dash component tree shows, space separated."""
    if component is None:
        return ""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(text_of(c) for c in component)
    return text_of(getattr(component, "children", None))


def rows_of(component: Any) -> list[list[str]]:
    """The body rows of the first table in a component tree, as cell texts."""
    found: list[list[str]] = []

    def walk(c: Any) -> None:
        if isinstance(c, list | tuple):
            for x in c:
                walk(x)
        elif type(c).__name__ == "Tbody":
            found.extend([text_of(td) for td in tr.children] for tr in c.children)
        elif hasattr(c, "children"):
            walk(c.children)
    walk(component)
    return found


@pytest.fixture
def page(make_pg_database, tmp_path):
    shop = libpq_dsn(make_pg_database("lookout_audit"))
    other = libpq_dsn(make_pg_database("lookout_other"))  # on the same server, not in `databases:`
    make_shop(shop)
    make_shop(other)
    dbname = psycopg.conninfo.conninfo_to_dict(shop)["dbname"]
    other_name = psycopg.conninfo.conninfo_to_dict(other)["dbname"]
    cfg = parse_config(config_for(shop, dbname), env={}, base_dir=tmp_path)
    runtime = build_runtime(cfg, role="web", store=Store(f"sqlite:///{tmp_path / 'lookout.db'}"))
    now = time.time()
    # An older series of the other database, from before `databases:` was set.
    runtime.store.write_samples(now - 600, [Sample("pg_database_size_bytes", 9e6,
                                                   {"target": "shop-db", "datname": other_name})])
    collector = PostgresCollector(cfg.targets[0])
    try:
        batch = collector.run()
    finally:
        collector.close()
    assert batch.up, batch.error
    runtime.pipeline.handle(batch, interval=15.0)
    refresh = postgres.register(Dash(__name__), runtime)
    out = refresh("?range=1h&refresh=off", 0, "light")
    yield SimpleNamespace(raw=out, batch=batch, db=dbname, other=other_name, runtime=runtime)
    runtime.store.close()


def test_the_index_audit_lists_each_finding_with_its_database_when_databases_is_set(page):
    rows = rows_of(page.raw[-1])
    # Database, Issue, Index, Table, Size, Scans, Why
    [dup] = [r for r in rows if r[1] == "duplicate"]
    assert dup[0] == page.db and dup[2] == "public.orders_status_idx2" and dup[3] == "orders"
    assert dup[4].endswith("KiB") and dup[5] == "0" and dup[6] == "duplicates orders_status_idx"
    unused = [r for r in rows if r[1] == "unused"]
    assert "public.orders_note_idx" in {r[2] for r in unused}
    assert {r[0] for r in rows} == {page.db}  # the other database is not audited, so not listed


def test_the_sizes_panel_draws_only_the_databases_the_target_watches(page):
    sized = {s.labels["datname"] for s in page.batch.samples if s.name == "pg_database_size_bytes"}
    assert sized == {page.db}  # the collector sizes only the watched database
    figure = page.raw[postgres.PANELS.index("sizes") * 3]
    assert [t["name"] for t in figure["data"] if t.get("name") in (page.db, page.other)] == [page.db]


def test_an_audit_without_findings_says_which_databases_it_checked(page):
    with psycopg.connect(page.runtime.config.targets[0].dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE orders")
    collector = PostgresCollector(page.runtime.config.targets[0])
    try:
        batch = collector.run()
    finally:
        collector.close()
    page.runtime.pipeline.handle(batch, interval=15.0)
    refresh = postgres.register(Dash(__name__), page.runtime)
    text = text_of(refresh("?range=1h&refresh=off", 0, "light")[-1])
    assert text == f"no unused, duplicate or invalid indexes in shop-db/{page.db}"
