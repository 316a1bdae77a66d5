"""The JSON API through a store outage on a real PostgreSQL: every read answers 503 with a JSON
error (never a 500 and a traceback per request), one log line when the outage starts and one
when the API reads again, and the answers come back on their own.

The outage: the store's database stops accepting connections and its sessions are ended
(``ALTER DATABASE … ALLOW_CONNECTIONS false`` + ``pg_terminate_backend``), which is what the
API sees of a server that is down: new connections refused.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from psycopg import sql

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Batch, Sample
from store import Store
from tests.pg import dbname

CONFIG = """\
targets:
  - {name: db, kind: process, interval: 15s}
alerting:
  notifications:
    receivers:
      - {name: demo-sink, sink: {}}
    default_receivers: [demo-sink]
"""
READS = ["/api/targets", "/api/series?name=demo_gauge", "/api/metrics", "/api/promises", "/api/sink",
         "/api/alerts", "/api/silences"]


@pytest.fixture
def served(pg_server, pg_migrated_url, tmp_path) -> Iterator[tuple]:
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(pg_migrated_url))
    rt.pipeline.handle(Batch(target="db", kind="process", started_at=time.time(), up=True,
                             samples=[Sample("demo_gauge", 1.0, {"x": "a"}, help="demo")]), 15)
    name = sql.Identifier(dbname(pg_migrated_url))

    def outage(on: bool) -> None:
        pg_server.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
            name, sql.SQL("false" if on else "true")))
        if on:
            pg_server.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = %s AND pid <> pg_backend_pid()", (dbname(pg_migrated_url),))

    try:
        yield create_app(cfg, runtime=rt), outage
    finally:
        outage(False)
        rt.store.close()


def test_every_read_answers_503_in_json_during_an_outage_and_200_after(served, caplog):
    app, outage = served
    client = app.test_client()
    assert [client.get(p).status_code for p in READS] == [200] * len(READS)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        outage(True)
        answers = [client.get(p) for _ in range(3) for p in READS]
        outage(False)
        back = [client.get(p).status_code for p in READS]
    assert [r.status_code for r in answers] == [503] * len(answers)
    for r in answers:
        assert r.is_json and r.json["error"].startswith("store unavailable: ") and r.headers["Retry-After"]
    assert back == [200] * len(READS)
    # One line when it started, one when it ended; no traceback, no ERROR.
    api_lines = [r for r in caplog.records if r.name == "lookout.api"]
    assert [r.getMessage().split(":")[0].split(" after")[0] for r in api_lines] == [
        "store unavailable", "store available again"]
    assert f"answered {len(answers)} request(s) with 503" in api_lines[1].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def test_health_says_fail_within_a_second_during_the_outage(served):
    app, outage = served
    client = app.test_client()
    outage(True)
    started = time.monotonic()
    res = client.get("/api/health")
    assert time.monotonic() - started < 1.0
    assert res.status_code == 503 and res.json["checks"]["store"]["status"] == "fail"
