"""Payments in the application's own tables: a table named like payments (or orders) with a status
column, and the statuses it holds, for a ``kind: sql`` target and the payment_success promise.

Read-only, under a statement timeout: one catalogue query, and one GROUP BY on the table found.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql

TABLES = ("payments", "payment", "transactions", "charges", "orders")
COLUMNS = ("status", "state", "payment_status")
GOOD = re.compile(r"succeeded|success|successful|ok|paid|completed|captured|settled", re.I)
BAD = re.compile(r"failed|failure|error|declined|payment_failed|rejected", re.I)


@dataclass
class Payments:
    schema: str
    table: str
    column: str
    statuses: dict[str, int]

    @property
    def qualified(self) -> str:
        return self.table if self.schema == "public" else f"{self.schema}.{self.table}"

    @property
    def good(self) -> list[str]:
        return [s for s in self.statuses if GOOD.fullmatch(s)]

    @property
    def bad(self) -> list[str]:
        return [s for s in self.statuses if BAD.fullmatch(s)]


def find(conn: psycopg.Connection) -> Payments | None:
    """The first table by TABLES order that has a status column and holds a good or a bad status,
    else the first such table that is still empty (its outcomes are not known yet)."""
    with conn.transaction():
        conn.execute("SET TRANSACTION READ ONLY")
        conn.execute("SET LOCAL statement_timeout = '3s'")
        rows = conn.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND table_name = ANY(%s) AND column_name = ANY(%s)", (list(TABLES), list(COLUMNS))).fetchall()
        rows.sort(key=lambda r: (TABLES.index(r[1]), r[0] != "public", COLUMNS.index(r[2])))
        empty = None
        for schema, table, column in rows:
            query = sql.SQL("SELECT {c}::text, count(*) FROM {s}.{t} GROUP BY 1 ORDER BY 2 DESC LIMIT 20").format(
                c=sql.Identifier(column), s=sql.Identifier(schema), t=sql.Identifier(table))
            found = Payments(schema, table, column, {str(k): int(n) for k, n in conn.execute(query) if k is not None})
            if found.good or found.bad:
                return found
            if not found.statuses and empty is None:
                empty = found
    return empty


def sqlalchemy_url(dsn: str) -> str:
    """The DSN as written (password as ``${ENV}``) as the SQLAlchemy URL a ``sql`` target takes."""
    if "://" in dsn:
        return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", dsn)
    parts = dict(p.split("=", 1) for p in dsn.split() if "=" in p)
    user = parts.get("user", "")
    password = f":{parts['password']}" if "password" in parts else ""
    host = parts.get("host", "localhost") + (f":{parts['port']}" if "port" in parts else "")
    return f"postgresql+psycopg://{user}{password}{'@' if user else ''}{host}/{parts.get('dbname', '')}"
