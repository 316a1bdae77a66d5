"""The backends discover probes: the test PostgreSQL (a database of this module's own), the test
Redis, a real PgBouncer, an embedded PostgreSQL 18 with pg_stat_statements, the demo shop, and
the small apps of tests/discover/apps.py."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from tests.discover import apps
from tests.pg import libpq_dsn


@pytest.fixture(scope="module")
def shop_db(pg_server) -> Iterator[str]:
    """SQLAlchemy URL of a database holding the demo shop's schema."""
    from demo.shop import schema

    url = pg_server.create("lookout_discover")
    engine = create_engine(url)
    schema.create(engine, products=20, customers=10)
    with engine.begin() as conn:  # payments already made, as in a shop that has been open a while
        conn.exec_driver_sql("INSERT INTO orders (customer_id, total_cents, status) SELECT 1, 1000, 'paid' "
                             "FROM generate_series(1, 20)")
        conn.exec_driver_sql("INSERT INTO payments (order_id, amount_cents, status, provider_ms) SELECT id, 1000, "
                             "CASE WHEN id %% 10 = 0 THEN 'failed' ELSE 'succeeded' END, 40 FROM orders")
    engine.dispose()
    yield url
    pg_server.drop(url)


@pytest.fixture(scope="module")
def shop_dsn(shop_db: str) -> str:
    """libpq DSN of the shop database, as a user would give it to discover."""
    return libpq_dsn(shop_db)


@pytest.fixture(scope="module")
def demo_shop(shop_db: str, redis_url: str) -> Iterator[apps.Served]:
    from demo.shop.app import create_shop
    from demo.shop.scenarios import Scenarios

    app = create_shop(shop_db, redis_url, Scenarios(), seed=1)
    served = apps.serve(app)
    yield served
    served.stop()
    app.extensions["shop_engine"].dispose()


def _served(create) -> Iterator[apps.Served]:
    served = apps.serve(create())
    yield served
    served.stop()


@pytest.fixture(scope="module")
def node_app() -> Iterator[apps.Served]:
    yield from _served(apps.create_node_app)


@pytest.fixture(scope="module")
def spring_app() -> Iterator[apps.Served]:
    yield from _served(apps.create_spring_app)


@pytest.fixture(scope="module")
def hikari_app() -> Iterator[apps.Served]:
    yield from _served(apps.create_hikari_app)


@pytest.fixture(scope="module")
def checks_app() -> Iterator[apps.Served]:
    yield from _served(apps.create_checks_app)

