"""A ``${ENV}`` value inside an HTTP probe URL never reaches the store in clear: the whole
SQLite file (and its WAL) and every PostgreSQL table are searched for it after a real poll."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from collectors.registry import collector_for
from composition.config import parse_config
from composition.runtime import Runtime, build_runtime
from store import Store
from tests.collectors.http.shop_app import AppState, Served, create_app, serve
from tests.support import free_port

SECRET = "probeQuerySecret-8d1e2f"
NEEDLES = (SECRET, SECRET[:12], SECRET.encode().hex())


@pytest.fixture(scope="module")
def shop() -> Iterator[Served]:
    served = serve(create_app(AppState()))
    yield served
    served.stop()


@pytest.fixture
def polled(shop: Served, migrated_store_url: str, tmp_path: Path) -> Iterator[tuple[Runtime, str]]:
    """One real poll of a target whose probe URLs carry the secret, written to the store."""
    config = f"""\
targets:
  - name: api
    kind: http
    interval: 15s
    timeout: 5s
    base_url: {shop.url}
    probes:
      - {{name: ok, url: "/ok?api_key=${{PROBE_SECRET}}"}}
      - {{name: refused, url: "http://127.0.0.1:{free_port()}/x?api_key=${{PROBE_SECRET}}", timeout: 1s}}
      - {{name: missing, url: "/no-such-page/${{PROBE_SECRET}}"}}
"""
    cfg = parse_config(config, env={"PROBE_SECRET": SECRET}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(migrated_store_url))
    rt.pipeline.collect(collector_for(cfg.targets[0]), 15)  # not started: written inline
    yield rt, migrated_store_url
    rt.store.close()


def everything_stored(url: str) -> bytes:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        db = Path(u.database or "")
        return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(text("SELECT quote_ident(table_name) FROM information_schema.tables "
                                       "WHERE table_schema = 'public'")).scalars().all()
            return b"".join(str(conn.execute(text(f"SELECT t::text FROM {t} t")).scalars().all()).encode()
                            for t in tables)
    finally:
        engine.dispose()


def test_a_secret_in_a_probe_url_is_masked_in_the_stored_documents(polled):
    rt, url = polled
    [doc] = rt.store.documents("api", "probes")
    assert doc.body["ok"]["ok"] is True and doc.body["ok"]["url"].endswith("/ok?api_key=***")
    assert doc.body["refused"]["reason"] == "refused"
    assert doc.body["missing"]["url"].endswith("/no-such-page/***")


def test_the_secret_is_nowhere_in_the_store(polled):
    _, url = polled
    dump = everything_stored(url)
    assert b"api_key=***" in dump  # the documents are in what was searched
    for needle in NEEDLES:
        assert needle.encode() not in dump, needle
