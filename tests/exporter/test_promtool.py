"""``promtool check metrics`` on the 0.0.4 body: a synthetic snapshot, and a live /metrics.

promtool (Debian package ``prometheus``) is required: CI installs it, and a missing
promtool fails these tests instead of skipping them. It exits 0 when clean, 3 when the
lint finds problems (printed on stderr, one ``name problem`` a line) and 1 when the text
does not parse. Findings on the peers' own names (postgres_exporter's and redis_exporter's,
listed with the reason in ``exporter.lint_exceptions``) are expected; any other fails.
(promtool only reads the text format; the OpenMetrics body is checked by the parser tests.)
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from collectors.registry import collector_for
from composition.config import parse_config
from composition.runtime import build_runtime
from composition.webapp import make_flask_app
from core.samples import Sample
from exporter.lint_exceptions import PROMTOOL_DISLIKED_PEER_NAMES
from exporter.snapshot import Snapshot
from tests.collectors.http.shop_app import AppState, Served, serve
from tests.collectors.http.shop_app import create_app as create_shop

from .conftest import target_samples
from .test_snapshot import tricky_samples


@pytest.fixture(scope="module")
def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed (apt-get install prometheus)")
    return path


def check_metrics(promtool: str, body: bytes) -> subprocess.CompletedProcess:
    return subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, timeout=30)


def findings(result: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    """(metric name, problem) of each lint line; a body promtool cannot parse fails here."""
    assert result.returncode in (0, 3), result.stderr.decode()
    return [(name, problem) for name, _, problem in
            (line.strip().partition(" ") for line in result.stderr.decode().splitlines() if line.strip())]


def unexpected(found: list[tuple[str, str]]) -> list[str]:
    return sorted({f"{n} {p}" for n, p in found if n not in PROMTOOL_DISLIKED_PEER_NAMES})


def test_promtool_finds_nothing_but_the_peers_names_in_our_text_output(promtool):
    snap = Snapshot(process=False)
    for i in range(3):
        snap.update(f"db{i}", target_samples(f"db{i}") + tricky_samples(f"db{i}"))
    snap.update("odd", [Sample("bad-name", 1.0), Sample("shared_name", 1.0, help="Conflicts with the counter below."),
                        Sample("shared_name_total", 1.0, kind="counter"),
                        Sample("lookout_latency_seconds", 0.1, {"quantile": "0.5"}, "summary", help="Latency."),
                        Sample("lookout_latency_seconds_count", 3.0, {}, "summary", help="Latency.")])

    found = findings(check_metrics(promtool, snap.body(False)))

    assert unexpected(found) == [], "\n".join(unexpected(found))
    assert {n for n, _ in found} == {"pg_stat_database_blks_hit", "pg_stat_database_xact_commit"}


def test_promtool_reports_a_lookout_name_that_breaks_the_rules(promtool):
    # Guards the tests here: a name of Lookout's own is never excused.
    snap = Snapshot(process=False)
    snap.update("t", [Sample("lookout_pg_waiting_count", 1.0, help="A gauge named like a summary part."),
                      Sample("lookout_events", 1.0, kind="counter", help="A counter without _total.")])

    result = check_metrics(promtool, snap.body(False))

    assert result.returncode == 3
    assert unexpected(findings(result)) == [
        'lookout_events counter metrics should have "_total" suffix',
        'lookout_pg_waiting_count non-histogram and non-summary metrics should not have "_count" suffix']


def test_every_excused_name_is_a_peers_name_with_a_reason():
    for name, reason in PROMTOOL_DISLIKED_PEER_NAMES.items():
        assert name.startswith(("pg_", "redis_", "pgbouncer_")), name
        assert "exporter" in reason, name


# -- a live /metrics from a real collection of every kind ------------------------------------

@pytest.fixture(scope="module")
def shop() -> Iterator[Served]:
    served = serve(create_shop(AppState()))
    yield served
    served.stop()


def live_config(tmp: Path, pg_dsn: str, pg_sqlalchemy: str, redis_url: str, shop_url: str) -> str:
    pool_fields = "{in_use: database.totalCount, idle: database.idleCount, waiting: database.waitingCount, " \
                  "max: database.max}"
    return f"""
store: {{url: "sqlite:///{tmp / 'lookout.db'}"}}
targets:
  - {{name: self, kind: process, interval: 15s}}
  - {{name: db, kind: postgres, dsn: "{pg_dsn}", interval: 15s}}
  - {{name: cache, kind: redis, url: "{redis_url}", interval: 15s}}
  - name: api
    kind: http
    interval: 15s
    base_url: {shop_url}
    probes:
      - {{name: health, url: /api/health}}
      - {{name: metrics, url: /metrics, prometheus: {{}}}}
  - name: pool
    kind: pool
    interval: 15s
    apps:
      - {{name: shop, url: "{shop_url}/api/pool-stats", fields: {pool_fields}}}
  - name: business
    kind: sql
    url: "{pg_sqlalchemy}"
    interval: 15s
    queries:
      - {{name: answer, metric: shop_answer, help: The answer., sql: "SELECT 42"}}
"""


@pytest.fixture(scope="module")
def live_body(tmp_path_factory, pg_server, redis_url, shop) -> bytes:
    tmp = tmp_path_factory.mktemp("live")
    sqlalchemy_url = pg_server.url.render_as_string(hide_password=False)
    cfg = parse_config(live_config(tmp, pg_server.dsn, sqlalchemy_url, redis_url, shop.url), env={})
    runtime = build_runtime(cfg, role="all")
    collectors = [collector_for(t) for t in cfg.targets]
    try:
        for _ in range(2):  # the second poll has the values computed between polls
            for c in collectors:
                runtime.pipeline.collect(c)
            requests.get(f"{shop.url}/shop/products?ms=5", timeout=5).raise_for_status()
        return make_flask_app(runtime).test_client().get("/metrics").get_data()
    finally:
        for c in collectors:
            c.close()
        runtime.pipeline.stop()
        runtime.store.close()


def test_every_kind_was_collected_for_the_live_body(live_body):
    text = live_body.decode()
    for kind in ("process", "postgres", "redis", "http", "pool", "sql"):
        assert f'kind="{kind}"}} 1\n' in text.split("# TYPE lookout_target_up gauge\n", 1)[1], kind
    assert "\nprocess_cpu_seconds_total " in text


def test_promtool_finds_nothing_but_the_peers_names_in_a_live_metrics(promtool, live_body):
    found = findings(check_metrics(promtool, live_body))

    assert unexpected(found) == [], "\n".join(unexpected(found))
