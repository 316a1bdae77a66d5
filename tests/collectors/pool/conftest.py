"""A real PgBouncer in front of the system PostgreSQL, and a Flask app that
reports a real SQLAlchemy pool as JSON and as Prometheus metrics."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from flask import Flask, jsonify
from sqlalchemy import create_engine
from werkzeug.serving import make_server

from tests.conftest import PG_URL
from tests.support import free_port


@pytest.fixture(scope="session")
def pgbouncer_admin_dsn(pg_admin_dsn) -> Iterator[str]:
    info = psycopg.conninfo.conninfo_to_dict(pg_admin_dsn)
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="lookout-pgb-")
    ini = os.path.join(tmp, "pgbouncer.ini")
    with open(ini, "w") as f:
        f.write(f"[databases]\n* = host={info.get('host', '127.0.0.1')} port={info.get('port', 5432)}\n"
                f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
                f"auth_file = {tmp}/users.txt\nadmin_users = postgres\npool_mode = transaction\n"
                f"default_pool_size = 3\nunix_socket_dir =\nlogfile = {tmp}/pgbouncer.log\n")
    with open(os.path.join(tmp, "users.txt"), "w") as f:
        f.write('"postgres" ""\n')
    for p in (tmp, ini, os.path.join(tmp, "users.txt")):
        os.chmod(p, 0o777 if p == tmp else 0o644)
    cmd = ["/usr/sbin/pgbouncer", ini] + (["-u", "nobody"] if os.geteuid() == 0 else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dsn = f"postgresql://postgres@127.0.0.1:{port}/pgbouncer"
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=2).close()
            break
        except psycopg.OperationalError:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"pgbouncer did not start: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.1)
    yield dsn
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


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
