"""A real Prometheus (Debian package ``prometheus``) scrapes /metrics and stores what dashboards query.

Prometheus asks for OpenMetrics first and for gzip, so this covers the body most scrapes get:
the peers' exact names (a counter without ``_total`` keeps its name), redis_exporter's percent
quantiles in a summary, and the process families after the one gzip member's cached part.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

import exporter.views
from core.samples import Sample
from exporter.snapshot import Snapshot
from tests.support import free_port

LAT = {"target": "cache", "cmd": "get"}
SAMPLES = [
    *[Sample("redis_latency_percentiles_usec", 5.0, {**LAT, "quantile": q}, "summary", "Latency.")
      for q in ("50", "99", "99.9")],
    Sample("redis_latency_percentiles_usec_sum", 50.0, LAT, "summary", "Latency."),
    Sample("redis_latency_percentiles_usec_count", 10.0, LAT, "summary", "Latency."),
    Sample("pg_stat_database_blks_hit", 7.0, {"target": "db", "datname": "shop"}, "counter", "Hits."),
    Sample("redis_keyspace_hits_total", 3.0, {"target": "cache"}, "counter", "Hits."),
]


@pytest.fixture(scope="module")
def lookout() -> Iterator[tuple[str, list[dict[str, str]]]]:
    snapshot = Snapshot()
    snapshot.update("t", SAMPLES)
    app = Flask("lookout")
    exporter.views.init_app(app, snapshot)
    seen: list[dict[str, str]] = []
    app.before_request(lambda: seen.append({"accept": request.headers.get("Accept", ""),
                                            "encoding": request.headers.get("Accept-Encoding", "")}) and None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_port}", seen
    server.shutdown()


@pytest.fixture(scope="module")
def prometheus(lookout, tmp_path_factory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus is not installed (apt-get install prometheus)")
    tmp: Path = tmp_path_factory.mktemp("prometheus")
    (tmp / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s}\n"
        f"scrape_configs:\n  - job_name: lookout\n    static_configs: [{{targets: ['{lookout[0]}']}}]\n")
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not query(url, 'up{job="lookout"} == 1'):
            assert proc.poll() is None, "prometheus exited"
            assert time.monotonic() < deadline, "prometheus did not scrape Lookout within 30 s"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def query(url: str, expr: str) -> list[dict]:
    try:
        r = requests.get(f"{url}/api/v1/query", params={"query": expr}, timeout=5)
    except requests.ConnectionError:
        return []
    return r.json()["data"]["result"] if r.status_code == 200 else []


def test_prometheus_scrapes_openmetrics_with_gzip(prometheus, lookout):
    assert lookout[1] and "application/openmetrics-text" in lookout[1][-1]["accept"]
    assert "gzip" in lookout[1][-1]["encoding"]


def test_prometheus_stores_the_peers_exact_names(prometheus):
    assert [r["value"][1] for r in query(prometheus, 'pg_stat_database_blks_hit{datname="shop"}')] == ["7"]
    assert query(prometheus, "pg_stat_database_blks_hit_total") == []
    assert [r["value"][1] for r in query(prometheus, "redis_keyspace_hits_total")] == ["3"]


def test_prometheus_stores_the_percent_quantiles_as_redis_exporter_labels_them(prometheus):
    got = {r["metric"]["quantile"] for r in query(prometheus, 'redis_latency_percentiles_usec{cmd="get"}')}
    assert got == {"50", "99", "99.9"}
    assert [r["value"][1] for r in query(prometheus, "redis_latency_percentiles_usec_count")] == ["10"]


def test_prometheus_stores_the_process_families_of_lookout(prometheus):
    assert float(query(prometheus, 'process_resident_memory_bytes{job="lookout"}')[0]["value"][1]) > 0
    assert query(prometheus, 'process_cpu_seconds_total{job="lookout"}')
