"""A real PgBouncer for the tests: its own config folder, a free port, trust auth as postgres.

Started as ``nobody`` when the tests run as root (PgBouncer refuses to run as root), so the
folder and its files are made readable to it. ``databases`` and ``settings`` are the lines of
the ``[databases]`` and ``[pgbouncer]`` sections that differ between callers.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from tests.support import free_port


@contextmanager
def running(databases: str, settings: str, prefix: str = "lookout-pgb-") -> Iterator[int]:
    """Start PgBouncer; yield its port once its admin console answers; stop it and clean up."""
    port = free_port()
    tmp = tempfile.mkdtemp(prefix=prefix)
    ini, users = os.path.join(tmp, "pgbouncer.ini"), os.path.join(tmp, "users.txt")
    with open(ini, "w") as f:
        f.write(f"[databases]\n{databases}\n"
                f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
                f"auth_file = {users}\nadmin_users = postgres\npool_mode = transaction\n"
                f"unix_socket_dir =\nlogfile = {tmp}/pgbouncer.log\n{settings}\n")
    with open(users, "w") as f:
        f.write('"postgres" ""\n')
    os.chmod(tmp, 0o777)
    for p in (ini, users):
        os.chmod(p, 0o644)
    cmd = ["/usr/sbin/pgbouncer", ini] + (["-u", "nobody"] if os.geteuid() == 0 else [])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/pgbouncer", autocommit=True,
                                prepare_threshold=None, connect_timeout=2).close()
                break
            except psycopg.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    err = proc.stderr.read().decode()[-500:] if proc.stderr else ""
                    pytest.fail(f"pgbouncer did not start: {err}")
                time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
