"""Config of ``kind: sql``: a database URL and named read-only queries."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from collectors.sql.statement import check_read_only
from core.configmodel import ConfigModel
from core.durations import Duration
from core.targets import TargetBase

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class SqlQuery(ConfigModel):
    name: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$", description="Unique in the target; the `query` label.")
    sql: str = Field(description="ONE read-only SELECT/WITH/VALUES/TABLE statement.")
    metric: str = Field(description="Prometheus name of the result, e.g. `shop_revenue_total`.")
    help: str = Field(min_length=1, description="What the number means, with its unit.")
    kind: Literal["gauge", "counter"] = Field("gauge", description="`counter` only for values that never go down.")
    interval: Duration | None = Field(None, description="Run at most this often; default the target's interval.")
    timeout: Duration | None = Field(None, description="statement_timeout of this query; default the target's.")
    max_rows: int = Field(1000, ge=1, le=100_000, description="More rows than this is an error.")
    allow_empty: bool = Field(False, description="Zero rows is no series instead of an error (labelled queries).")

    @model_validator(mode="after")
    def _read_only_and_well_named(self) -> SqlQuery:
        # One validator, so that every message names the query.
        try:
            object.__setattr__(self, "sql", check_read_only(self.sql))
        except ValueError as exc:
            raise ValueError(f"query {self.name!r}: {exc}") from None
        m = self.metric
        if not METRIC_NAME.match(m) or m.startswith("__"):
            raise ValueError(f"query {self.name!r}: {m!r} is not a valid Prometheus metric name "
                             "([a-zA-Z_:][a-zA-Z0-9_:]*)")
        if self.kind == "counter" and not m.endswith("_total"):
            raise ValueError(f"query {self.name!r}: counter {m!r} must end in _total")
        if self.kind == "gauge" and m.endswith("_total"):
            raise ValueError(f"query {self.name!r}: gauge {m!r} must not end in _total (only counters do)")
        return self


class SqlTarget(TargetBase):
    kind: Literal["sql"] = "sql"
    url: str = Field(description="SQLAlchemy URL naming the driver: postgresql+psycopg://user:${PW}@host/db "
                                 "or sqlite:///file.db.")
    queries: list[SqlQuery] = Field(min_length=1, description="The named queries.")
    statement_timeout: Duration | None = Field(None, description="Default per-query statement_timeout; "
                                               "default half the target timeout.")
    lock_timeout: Duration = Field(1.0, description="lock_timeout of each query.")
    connect_timeout: Duration | None = Field(None, description="Connect timeout; default half the target timeout.")

    @field_validator("url")
    @classmethod
    def _driver_named(cls, url: str) -> str:
        scheme = url.split(":", 1)[0]
        if scheme in ("postgresql", "postgres"):
            raise ValueError("name the driver: use postgresql+psycopg://...")
        if not (scheme.startswith("postgresql+") or scheme.startswith("sqlite")):
            raise ValueError(f"unsupported database {scheme!r} (use postgresql+psycopg://... or sqlite:///FILE)")
        return url

    @model_validator(mode="after")
    def _queries_fit(self) -> SqlTarget:
        limit = self.timeout if self.timeout is not None else min(10.0, self.interval * 0.8)
        if self.statement_timeout is None:
            object.__setattr__(self, "statement_timeout", limit / 2)
        if self.connect_timeout is None:
            object.__setattr__(self, "connect_timeout", limit / 2)
        names: set[str] = set()
        for q in self.queries:
            if q.name in names:
                raise ValueError(f"duplicate query name {q.name!r}")
            names.add(q.name)
            if q.timeout is not None and q.timeout >= limit:
                raise ValueError(f"query {q.name!r}: timeout ({q.timeout:g}s) must be shorter than the "
                                 f"target timeout ({limit:g}s)")
        return self
