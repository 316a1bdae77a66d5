"""Tables and numbered migrations.

The ``meta`` row ``schema_version`` says which migrations a database has had.
Each migration only adds things (tables, indexes), so an old file upgrades in
place. A later change to an existing table must be a new step with an
explicit ALTER, never an edit of the Table below that an old file lacks.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.engine import Connection, Engine

from store.engine import Writer, insert_for

metadata = MetaData()

meta = Table(
    "meta", metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

series = Table(
    "series", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("labels", Text, nullable=False),  # canonical JSON, see types.canonical_labels
    Column("kind", String(10), nullable=False),
    Column("help", Text, nullable=False, default=""),
    UniqueConstraint("name", "labels", name="uq_series_name_labels"),
)

# Narrow and clustered by (series_id, ts): a range read of one series is one
# contiguous index scan. WITHOUT ROWID makes SQLite store rows in PK order
# instead of keeping a second copy of the key.
samples = Table(
    "samples", metadata,
    Column("series_id", Integer, ForeignKey("series.id"), primary_key=True),
    Column("ts", BigInteger, primary_key=True),  # epoch ms
    Column("value", Float, nullable=False),
    sqlite_with_rowid=False,
)


def _rollup_table(name: str) -> Table:
    return Table(
        name, metadata,
        Column("series_id", Integer, ForeignKey("series.id"), primary_key=True),
        Column("ts", BigInteger, primary_key=True),  # bucket start, epoch ms
        Column("min", Float, nullable=False),
        Column("max", Float, nullable=False),
        Column("sum", Float, nullable=False),
        Column("count", Integer, nullable=False),
        Column("last", Float, nullable=False),
        sqlite_with_rowid=False,
    )


samples_1m = _rollup_table("samples_1m")
samples_1h = _rollup_table("samples_1h")

target_status = Table(
    "target_status", metadata,
    Column("target", String(200), primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("up", Boolean, nullable=False),
    Column("last_attempt", BigInteger, nullable=False),
    Column("last_success", BigInteger),
    Column("last_error", Text),  # error of the latest attempt, NULL when it succeeded
    Column("duration", Float, nullable=False),
    Column("interval", Float),
)

documents = Table(
    "documents", metadata,
    Column("target", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("ts", BigInteger, nullable=False),
    Column("body", Text, nullable=False),  # JSON text
)

workers = Table(
    "workers", metadata,
    Column("worker_id", String(200), primary_key=True),
    Column("role", String(50), nullable=False),
    Column("heartbeat_ts", BigInteger, nullable=False),
    Column("started_ts", BigInteger, nullable=False),
    Column("info", Text, nullable=False, default="{}"),
)

# Rollup and retention walk samples by time across all series. On PostgreSQL
# a BRIN index fits append-ordered timestamps at a tiny fraction of a btree's
# size and insert cost; SQLite has no BRIN and gets a btree.
ix_samples_ts = Index("ix_samples_ts", samples.c.ts, postgresql_using="brin")


def _v1(conn: Connection) -> None:
    for t in (meta, series, samples, target_status, documents):
        t.create(conn, checkfirst=True)


def _v2(conn: Connection) -> None:
    for t in (samples_1m, samples_1h, workers):
        t.create(conn, checkfirst=True)
    ix_samples_ts.create(conn, checkfirst=True)


def _v3(conn: Connection) -> None:
    # PostgreSQL: samples partitioned by day, rows copied.
    from store import partitions
    partitions.convert(conn)


MIGRATIONS: list[Callable[[Connection], None]] = [_v1, _v2, _v3]
LATEST = len(MIGRATIONS)
VERSION_KEY = "schema_version"
_PG_MIGRATE_LOCK = 0x4C4F4F4B  # "LOOK": any constant shared by all Lookout processes


def schema_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, "meta"):
        return 0
    value = conn.execute(select(meta.c.value).where(meta.c.key == VERSION_KEY)).scalar()
    return int(value) if value is not None else 0


def migrate(engine: Engine, target: int = LATEST, writer: Writer | None = None) -> int:
    """Bring the schema to ``target``; idempotent. Returns the version reached.

    All steps run in one transaction (DDL is transactional on both
    dialects), so a failed upgrade leaves the old version intact. Concurrent
    starters serialize on an advisory lock (PostgreSQL) or the write lock (SQLite).
    """
    writer = writer or Writer(engine)
    with writer.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATE_LOCK})
        version = schema_version(conn)
        if version >= target:
            return version
        for step in MIGRATIONS[version:target]:
            step(conn)
        stmt = insert_for(conn, meta).values(key=VERSION_KEY, value=str(target))
        conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key],
                                                set_={"value": stmt.excluded.value}))
        return target
