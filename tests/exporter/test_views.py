from __future__ import annotations

import gzip

import pytest
from flask import Flask

import exporter.views
from core.samples import Sample
from exporter.snapshot import Snapshot

# What Prometheus 2.x sends by default (scrape_protocols).
PROMETHEUS_ACCEPT = ("application/openmetrics-text;version=1.0.0;q=0.5,"
                     "application/openmetrics-text;version=0.0.1;q=0.4,"
                     "text/plain;version=0.0.4;q=0.3,*/*;q=0.2")


@pytest.fixture
def client(snapshot: Snapshot):
    app = Flask("test")
    exporter.views.init_app(app, snapshot)
    return app.test_client()


def test_it_serves_text_0_0_4_by_default(client, snapshot):
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert response.data == snapshot.body(False)
    assert "Content-Encoding" not in response.headers


@pytest.mark.parametrize("accept", [PROMETHEUS_ACCEPT, "application/openmetrics-text",
                                    "text/plain;q=0.9, application/openmetrics-text; version=1.0.0"])
def test_it_serves_openmetrics_when_asked(client, snapshot, accept):
    response = client.get("/metrics", headers={"Accept": accept})

    assert response.headers["Content-Type"] == "application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert response.data == snapshot.body(True)
    assert response.data.endswith(b"# EOF\n")


@pytest.mark.parametrize("accept", ["text/plain", "*/*", "application/openmetrics-text;version=0.0.1",
                                    "application/openmetrics-text;q=0", "application/json"])
def test_it_falls_back_to_text_for_anything_else(client, accept):
    response = client.get("/metrics", headers={"Accept": accept})

    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")


@pytest.mark.parametrize("accept", ["", PROMETHEUS_ACCEPT])
def test_it_gzips_when_the_scraper_accepts_gzip(client, snapshot, accept):
    response = client.get("/metrics", headers={"Accept": accept, "Accept-Encoding": "gzip"})

    assert response.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(response.data) == snapshot.body(bool(accept))
    assert "Accept-Encoding" in response.headers["Vary"]


@pytest.mark.parametrize("encoding", ["", "identity", "br", "gzip;q=0"])
def test_it_does_not_gzip_otherwise(client, snapshot, encoding):
    response = client.get("/metrics", headers={"Accept-Encoding": encoding})

    assert "Content-Encoding" not in response.headers
    assert response.data == snapshot.body(False)


def test_it_compresses_each_body_version_once(snapshot, monkeypatch):
    compressions = []
    real = gzip.compress
    monkeypatch.setattr(gzip, "compress", lambda data, **kw: compressions.append(1) or real(data, **kw))

    first = snapshot.body(False, gzipped=True)
    assert snapshot.body(False, gzipped=True) is first
    snapshot.update("db1", [Sample("pg_up", 0.0, {"target": "db1"}, help="Up.")])
    second = snapshot.body(False, gzipped=True)

    assert len(compressions) == 2
    assert gzip.decompress(second) == snapshot.body(False)


def test_it_reflects_the_latest_update(client, snapshot):
    snapshot.remove("db2")

    assert b'target="db2"' not in client.get("/metrics").data
    assert b'target="db2"' not in gzip.decompress(
        client.get("/metrics", headers={"Accept-Encoding": "gzip"}).data)


def test_only_get_and_head_are_allowed(client):
    assert client.head("/metrics").status_code == 200
    assert client.post("/metrics").status_code == 405


def test_it_serves_the_process_families_fresh_and_gzipped():
    snap = Snapshot()  # with the process families, as the runtime builds it
    snap.update("db1", [Sample("pg_up", 1.0, {"target": "db1"}, help="Up.")])
    app = Flask("test")
    exporter.views.init_app(app, snap)

    response = app.test_client().get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT, "Accept-Encoding": "gzip"})

    body = gzip.decompress(response.data)
    assert b'pg_up{target="db1"} 1\n' in body and b"\nprocess_resident_memory_bytes " in body
    assert body.endswith(b"# EOF\n")
