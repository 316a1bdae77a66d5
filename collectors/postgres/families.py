"""The family table: name, scope, default interval, SQL builder, row mapper.

``interval None`` means "every poll" (the target's interval, the fast
cadence); heavy families default to 60 s (statements, settings) or 300 s (tables,
indexes, sequences, sizes), as in pgwatch's presets.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from collectors.postgres import server, sessions, sql, statements, tables
from collectors.postgres.rows import Ctx, Result


@dataclass(frozen=True, eq=False)  # each family is one object: compared by identity, cheaply
class Family:
    name: str
    scope: Literal["server", "database"]
    interval: float | None
    statements: Callable[[int, dict[str, Any]], list[str]]
    parse: Callable[[list[list[dict]], Ctx], Result]
    probe: Callable[[int], str] | None = None  # run first; its rows decide the statements


FAMILIES: tuple[Family, ...] = (
    Family("instance", "server", None, lambda v, o: sql.instance(v), server.instance),
    # Settings and connection limits change on a reload at most: every minute, carried between.
    Family("settings", "server", 60.0, lambda v, o: sql.settings(v), server.settings),
    Family("database", "server", None, lambda v, o: sql.database(v), server.database),
    Family("activity", "server", None, lambda v, o: sql.activity(v), sessions.activity),
    Family("locks", "server", None, lambda v, o: sql.locks(v), sessions.locks),
    Family("bgwriter", "server", None, lambda v, o: sql.bgwriter(v), server.bgwriter),
    Family("wal", "server", None, lambda v, o: sql.wal(v), server.wal),
    Family("replication", "server", None, lambda v, o: sql.replication(v), server.replication),
    Family("statements", "server", 60.0, lambda v, o: sql.statements(v, o["statements_top"]),
           statements.statements, probe=sql.statements_probe),
    Family("sizes", "server", 300.0, lambda v, o: sql.sizes(v, o.get("databases")), server.sizes),
    Family("tables", "database", 300.0, lambda v, o: sql.tables(v, o["tables_top"]), tables.tables),
    Family("indexes", "database", 300.0, lambda v, o: sql.indexes(v, o["unused_index_min_bytes"]), tables.indexes),
    Family("sequences", "database", 300.0, lambda v, o: sql.sequences(v), tables.sequences),
)
NAMES = tuple(f.name for f in FAMILIES)


def probe_allows(family: Family, probe_rows: list[dict]) -> bool:
    """Whether a probed family may run its statements (pg_stat_statements present)."""
    if family.name == "statements":
        return statements.availability(probe_rows[0]) is None
    return True
