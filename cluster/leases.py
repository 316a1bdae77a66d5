"""One lease row per target: who may collect it, until when, and when it last was.

``acquire`` is a single compare-and-set upsert: it succeeds only when the
lease is free, expired or already ours, and the target's last collection (by
anyone) is at least ``min_gap`` old. So two workers can never hold a target
at once, and a handover never produces two samples of a series closer than
``min_gap``. Times are epoch milliseconds from the workers' clocks.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine

metadata = MetaData()

leases = Table(
    "cluster_leases", metadata,
    Column("target", String(200), primary_key=True),
    Column("holder", String(200)),
    Column("until_ms", BigInteger, nullable=False),
    Column("last_ms", BigInteger, nullable=False),
    Column("takeovers", Integer, nullable=False, default=0),
)

_ACQUIRE = text("""
INSERT INTO cluster_leases (target, holder, until_ms, last_ms, takeovers)
VALUES (:target, :me, :now + :ttl, :now, 0)
ON CONFLICT (target) DO UPDATE
   SET holder = EXCLUDED.holder, until_ms = EXCLUDED.until_ms, last_ms = EXCLUDED.last_ms,
       takeovers = cluster_leases.takeovers
                   + CASE WHEN cluster_leases.holder IS DISTINCT FROM EXCLUDED.holder THEN 1 ELSE 0 END
 WHERE (cluster_leases.holder = :me OR cluster_leases.until_ms < :now)
   AND cluster_leases.last_ms <= :now - :gap
RETURNING target
""")


@dataclass(frozen=True)
class Lease:
    target: str
    holder: str | None
    until_ms: int
    last_ms: int


def create(engine: Engine) -> None:
    with engine.begin() as conn:
        # Serialize with other starters (same key as store.schema.migrate).
        conn.execute(text("SELECT pg_advisory_xact_lock(1280266059)"))
        leases.create(conn, checkfirst=True)


def acquire(conn: Connection, target: str, me: str, now_ms: int, ttl_ms: int, gap_ms: int) -> bool:
    row = conn.execute(_ACQUIRE, {"target": target, "me": me, "now": now_ms, "ttl": ttl_ms,
                                  "gap": gap_ms}).first()
    return row is not None


def release(conn: Connection, target: str, me: str) -> bool:
    """Give a lease up now (keeps ``last_ms``, so the next holder keeps the spacing)."""
    n = conn.execute(update(leases).where(leases.c.target == target, leases.c.holder == me)
                     .values(holder=None, until_ms=0)).rowcount
    return n == 1


def release_all(conn: Connection, me: str) -> int:
    return conn.execute(update(leases).where(leases.c.holder == me).values(holder=None, until_ms=0)).rowcount


def all_leases(conn: Connection) -> dict[str, Lease]:
    rows = conn.execute(select(leases.c.target, leases.c.holder, leases.c.until_ms, leases.c.last_ms))
    return {r[0]: Lease(r[0], r[1], int(r[2]), int(r[3])) for r in rows}
