"""A real PgBouncer in front of the system PostgreSQL, and a Flask app that
reports a real SQLAlchemy pool as JSON and as Prometheus metrics."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from flask import Flask, jsonify
from sqlalchemy import create_engine
from werkzeug.serving import make_server

from tests.conftest import PG_URL


@pytest.fixture(scope="session")
def app_pool() -> Iterator[dict]:
    """{"url": JSON endpoint, "metrics_url": Prometheus text, "engine": the SQLAlchemy engine}."""
    engine = create_engine(PG_URL, pool_size=4, max_overflow=0, pool_timeout=5)
    app = Flask("shop")

    def stats() -> dict:
        pool = engine.pool
        return {"pool": {"size": pool.size(), "checked_out": pool.checkedout(), "idle": pool.checkedin()},
                "waiting": 0}

    @app.get("/pool")
    def pool_json():
        return jsonify(stats())

    @app.get("/metrics")
    def metrics():
        s = stats()["pool"]
        return (f"# TYPE db_pool_connections gauge\ndb_pool_connections{{state=\"in_use\"}} {s['checked_out']}\n"
                f"db_pool_connections{{state=\"idle\"}} {s['idle']}\n"
                f"# TYPE db_pool_max gauge\ndb_pool_max {s['size']}\n",
                200, {"Content-Type": "text/plain; version=0.0.4"})

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    yield {"url": base + "/pool", "metrics_url": base + "/metrics", "engine": engine}
    server.shutdown()
    engine.dispose()
