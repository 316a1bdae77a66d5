"""The dashboard says the store is unavailable instead of erroring."""
from __future__ import annotations

import socket

import pytest
from dash.exceptions import PreventUpdate

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from dashboards.storebanner import store_problem
from demo.embedded import EmbeddedPostgres
from store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def pg_store_runtime(server_dir):
    pg = EmbeddedPostgres(server_dir / "pg", free_port())
    pg.start()
    url = pg.dsn().replace("postgresql://", "postgresql+psycopg://")
    cfg = parse_config("targets:\n  - {name: self, kind: process}\n", env={})
    rt = build_runtime(cfg, role="web", store=Store(url))
    yield rt, pg
    rt.store.close()
    pg.stop()


def test_the_banner_and_pages_say_the_store_is_unavailable_instead_of_erroring(pg_store_runtime):
    rt, pg = pg_store_runtime
    server = create_app(rt.config, runtime=rt)
    refresh_overview = server.extensions["lookout_dash_refreshers"]["/"]
    assert store_problem(rt) is None
    refresh_overview("?range=1h", 0, "light")  # works while the store is up

    pg.stop()
    problem = store_problem(rt)
    assert problem is not None and problem.startswith("Store unavailable")
    with pytest.raises(PreventUpdate):
        refresh_overview("?range=1h", 1, "light")

    pg.start()
    assert store_problem(rt) is None
