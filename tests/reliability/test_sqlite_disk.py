"""SQLite store on a disk that turns read-only or fills up: a clear failure, no crash loop, recovery."""
from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from api.health import health
from tests.reliability.conftest import wait_until


@pytest.fixture
def small_disk(tmp_path: Path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def _runtime(make_runtime, disk: Path):
    return make_runtime(f"""
store: {{url: "sqlite:///{disk / 'lookout.db'}"}}
targets:
  - {{name: self-a, kind: process, interval: 1s, timeout: 0.5s}}
  - {{name: self-b, kind: process, interval: 1s, timeout: 0.5s}}
""")


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def _outage(rt, caplog, break_disk, fix_disk, expect: str) -> None:
    wait_until(lambda: rt.pipeline.store_state()["buffered_batches"] == 0 and rt.store.target_status(), 10,
               "first writes")
    t_break = time.time()
    break_disk()
    wait_until(lambda: rt.pipeline.buffer.stats().batches >= 4, 15, "batches buffered")
    body, code = health(rt)
    assert code == 503 and body["checks"]["store"]["status"] == "fail"
    assert expect in body["checks"]["store"]["error"]
    assert rt.scheduler.running
    fix_disk()
    wait_until(lambda: rt.pipeline.buffer.stats().batches == 0 and rt.pipeline.store_available, 15, "flushed")
    assert health(rt)[0]["checks"]["store"]["status"] == "pass"
    rows = rt.store.raw("lookout_target_up", {"target": "self-a"}, t_break, time.time())
    assert rows and len(rows[0].points) >= 2  # the outage's samples are in the store
    with rt.store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    msgs = [r.getMessage() for r in caplog.records if r.name == "lookout.pipeline"]
    assert sum("store is unavailable, buffering" in m for m in msgs) == 1
    assert sum(expect in m for m in msgs) == 1  # the cause is logged once, not each cycle


def test_a_read_only_store_fails_health_with_a_clear_error_and_recovers_when_writable(small_disk, make_runtime, caplog):
    # The kernel refuses to remount a file system read-only while SQLite holds files
    # open for writing (EBUSY), so the store's connections are made read-only
    # (PRAGMA query_only): SQLite then answers exactly what a read-only disk gives,
    # SQLITE_READONLY "attempt to write a readonly database".
    caplog.set_level(logging.INFO)
    rt = _runtime(make_runtime, small_disk)
    read_only = [False]

    @event.listens_for(rt.store.engine, "connect")
    def _ro(dbapi_conn, _rec):
        if read_only[0]:
            dbapi_conn.execute("PRAGMA query_only = ON")

    def switch(on: bool):
        def go():
            read_only[0] = on
            rt.store.engine.dispose()  # pooled connections reopen with the new mode
        return go

    _outage(rt, caplog, switch(True), switch(False), "readonly database")


def test_a_full_disk_fails_health_with_a_clear_error_and_recovers_when_space_returns(small_disk, make_runtime, caplog):
    caplog.set_level(logging.INFO)
    rt = _runtime(make_runtime, small_disk)
    filler: list[Path] = []
    _outage(rt, caplog, lambda: filler.append(_fill(small_disk)), lambda: filler[0].unlink(), "disk is full")
