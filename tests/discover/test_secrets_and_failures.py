"""discover never writes a secret, and says which part it could not reach and why."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from collectors.registry import collector_for
from discover.cli import discover
from discover.placeholders import without_password
from tests.discover.helpers import discover_and_collect, missing_claims, write_and_load
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-Pw-81"


def _with_password(dsn: str) -> str:
    # The test server trusts loopback: any password is accepted, so the written placeholder can be
    # checked end to end.
    return dsn.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@", 1)


@pytest.fixture(scope="module")
def redis_with_password() -> Iterator[str]:
    """A Redis of this module's own that requires a password."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="lookout-discover-redis-")
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", data, "--requirepass", PASSWORD],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url, socket_timeout=1).ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(data, ignore_errors=True)


def test_a_password_in_a_dsn_becomes_a_placeholder_that_check_config_fills(tmp_path, shop_dsn, redis_with_password):
    found = discover(postgres_dsn=_with_password(shop_dsn), redis_url=redis_with_password)

    assert set(found.env) == {"PG_PASSWORD", "REDIS_PASSWORD"}
    assert (found.redis.role, found.redis.databases, found.redis.url) == (
        "master", 16, redis_with_password.replace(f":{PASSWORD}@", ""))
    text, cfg = write_and_load(tmp_path, found, env={"PG_PASSWORD": PASSWORD, "REDIS_PASSWORD": PASSWORD})
    assert PASSWORD not in text
    assert "postgres:${PG_PASSWORD}@127.0.0.1" in text and "password: '${REDIS_PASSWORD}'" in text
    assert "PG_PASSWORD" in text.split("targets:")[0]  # the header says which variables to set
    for target in cfg.targets:
        c = collector_for(target)
        try:
            batch = c.run()
        finally:
            c.close()
        assert batch.up, f"{target.name}: {batch.error}"


def test_the_written_config_is_refused_until_the_variable_is_set(tmp_path, shop_dsn):
    from core.errors import ConfigError

    found = discover(postgres_dsn=_with_password(shop_dsn))
    with pytest.raises(ConfigError) as err:
        write_and_load(tmp_path, found, env={})
    assert any("environment variable PG_PASSWORD is not set" in p for p in err.value.problems)


def test_key_value_dsns_and_query_passwords_are_rewritten_too():
    assert without_password("host=db user=shop password='a b' dbname=shop", "PG_PASSWORD") == (
        "host=db user=shop password=${PG_PASSWORD} dbname=shop", True)
    assert without_password("postgresql://db/shop?user=shop&password=pw", "PG_PASSWORD") == (
        "postgresql://db/shop?user=shop&password=${PG_PASSWORD}", True)
    assert without_password("postgresql://shop@db/shop", "PG_PASSWORD") == ("postgresql://shop@db/shop", False)
    assert without_password("postgresql://shop:@db/shop", "PG_PASSWORD") == ("postgresql://shop@db/shop", False)


def test_unreachable_parts_are_reported_with_why_and_left_out(tmp_path, redis_url):
    closed = free_port()
    found = discover(postgres_dsn=f"postgresql://postgres:{PASSWORD}@127.0.0.1:{closed}/shop",
                     redis_url=redis_url, app_url=f"http://127.0.0.1:{closed}", timeout=2)

    missing = {part: text for part, ok, text in found.notes.lines if not ok}
    assert f"cannot connect to postgresql://postgres:***@127.0.0.1:{closed}/shop" in missing["postgres"]
    assert "Connection refused" in missing["postgres"]
    assert "cannot reach" in missing["app"] and "ConnectionError" in missing["app"]
    text, cfg = write_and_load(tmp_path, found)
    assert PASSWORD not in text
    assert [t.kind for t in cfg.targets] == ["process", "redis"]
    assert "cannot connect to postgresql://postgres:***@" in text  # said in the file's header as well


def test_the_command_prints_what_it_found_and_writes_a_file_check_config_accepts(tmp_path, node_app, shop_dsn):
    out = tmp_path / "starter.yaml"
    closed = free_port()
    env = {**os.environ, "PG_PASSWORD": PASSWORD}
    cmd = [sys.executable, "app.py", "discover", "--postgres", _with_password(shop_dsn), "--app", node_app.url,
           "--redis", f"redis://127.0.0.1:{closed}/0", "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)

    assert done.returncode == 1, done.stderr  # Redis could not be reached: said, and the rest written
    assert PASSWORD not in done.stderr + done.stdout + out.read_text()
    assert "+ app: health at /api/health (HTTP 200): Node-style {status, services}" in done.stderr
    assert f"- redis: cannot reach redis://127.0.0.1:{closed}/0" in done.stderr
    assert "- postgres: pg_stat_statements: not in shared_preload_libraries" in done.stderr
    assert "set before starting: PG_PASSWORD" in done.stderr
    check = subprocess.run([sys.executable, "app.py", "check-config", "--config", str(out)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, env=env)
    assert check.returncode == 0, check.stderr + check.stdout


def test_pg_stat_statements_missing_writes_the_lines_that_enable_it(tmp_path, shop_dsn):
    found = discover(postgres_dsn=shop_dsn)
    text, cfg = write_and_load(tmp_path, found)
    dbname = found.postgres.dbname

    with psycopg.connect(shop_dsn) as conn:
        assert found.postgres.version == conn.execute("SHOW server_version").fetchone()[0].split()[0]
    assert "plpgsql" in found.postgres.extensions and found.postgres.replica is False
    assert "shared_preload_libraries = 'pg_stat_statements'" in text
    assert f"in database {dbname}, as a superuser:" in text
    assert "CREATE EXTENSION IF NOT EXISTS pg_stat_statements;" in text
    assert not {p.id: p for p in cfg.promises.objectives}["query_mean"].enabled
    assert "pg_query_mean_time" not in {r.name for r in cfg.alerting.rules}
    assert cfg.targets[1].databases == [dbname]


def test_nothing_to_probe_is_a_usage_error():
    done = subprocess.run([sys.executable, "app.py", "discover"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "give at least one of --postgres DSN, --redis URL, --app URL" in done.stderr


def test_a_server_with_pg_stat_statements_gets_the_query_promise_and_rule(tmp_path, pg18_dsn):
    def traffic() -> None:
        with psycopg.connect(pg18_dsn) as conn:
            conn.execute("SELECT count(*) FROM pg_class").fetchone()

    run = discover_and_collect(tmp_path, traffic, postgres_dsn=pg18_dsn)

    pg = run.found.postgres
    assert pg.pg_stat_statements and pg.version.startswith("18")
    assert "pg_stat_statements" in pg.extensions and "CREATE EXTENSION" not in run.text
    assert run.found.env == {}  # user:@host is no password: nothing to set
    assert {p.id: p for p in run.config.promises.objectives}["query_mean"].enabled
    assert "pg_query_mean_time" in {r.name for r in run.config.alerting.rules}
    assert "pg_stat_statements_seconds_total" in run.names("db")
    assert missing_claims(run) == []
