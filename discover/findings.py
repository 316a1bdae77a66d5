"""What ``discover`` found, and what it could not find and why: plain data, filled by the probes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from discover.business import Payments
from discover.prom import AppMetrics


@dataclass
class Notes:
    """Lines for the person running discover: ``+`` found, ``-`` not found (with why)."""

    lines: list[tuple[str, bool, str]] = field(default_factory=list)

    def found(self, part: str, text: str) -> None:
        self.lines.append((part, True, text))

    def missing(self, part: str, text: str) -> None:
        self.lines.append((part, False, text))

    def render(self) -> str:
        return "\n".join(f"{'+' if ok else '-'} {part}: {text}" for part, ok, text in self.lines)


@dataclass
class Postgres:
    dsn: str                       # as written: password as ${PG_PASSWORD}
    version: str
    dbname: str
    user: str
    databases: list[str]
    preload: list[str]
    extensions: dict[str, str]
    pgss_package: bool             # the extension's files are installed on the server
    replica: bool
    monitor: bool                  # superuser or member of pg_monitor
    payments: Payments | None = None

    @property
    def pg_stat_statements(self) -> bool:
        return "pg_stat_statements" in self.preload and "pg_stat_statements" in self.extensions


@dataclass
class Redis:
    url: str                       # without user and password
    username: str | None
    password_env: str | None
    version: str
    role: str
    databases: int | None
    keyspace: dict[int, int]       # db -> keys


@dataclass
class PgBouncer:
    dsn: str
    version: str
    pools: int


@dataclass
class HealthProbe:
    path: str
    status: int
    shape: str | None              # None: no dependency mapping recognised
    mapping: dict[str, Any] | None
    expect_json: dict[str, Any] | None = None


@dataclass
class AppPool:
    shape: str
    fields: dict[str, str]
    url: str | None = None         # a JSON document
    metrics_url: str | None = None
    match_labels: dict[str, str] = field(default_factory=dict)


@dataclass
class App:
    base_url: str                  # as written
    health: HealthProbe | None = None
    metrics_path: str | None = None
    metrics: AppMetrics | None = None
    pool: AppPool | None = None
    cache: tuple[list[str], str, str] | None = None   # (paths, header, value seen on the first)


@dataclass
class Findings:
    notes: Notes = field(default_factory=Notes)
    postgres: Postgres | None = None
    redis: Redis | None = None
    pgbouncer: PgBouncer | None = None
    app: App | None = None
    env: dict[str, str] = field(default_factory=dict)   # variable -> what it holds
