"""The store's section of config.yaml: where samples live and how long."""
from __future__ import annotations

from pydantic import Field, field_validator

from core.configmodel import ConfigModel
from core.durations import Duration


class Retention(ConfigModel):
    raw: Duration = Field(7 * 86400.0, description="Keep raw samples this long.")
    minute: Duration = Field(30 * 86400.0, description="Keep 1-minute rollups this long.")
    hour: Duration = Field(365 * 86400.0, description="Keep 1-hour rollups this long.")


class StoreConfig(ConfigModel):
    url: str = Field(
        "sqlite:///lookout.db",
        description="SQLAlchemy URL naming the driver. A relative SQLite path is next to the config file; "
        "PostgreSQL as `postgresql+psycopg://user@host/db` (password via `${ENV}`).",
    )
    retention: Retention = Field(default_factory=Retention, description=(
        "How long raw samples and their rollups are kept; older data is dropped hourly."))

    @field_validator("url")
    @classmethod
    def _driver_named(cls, url: str) -> str:
        scheme = url.split(":", 1)[0]
        if scheme in ("postgresql", "postgres"):
            raise ValueError("name the driver: use postgresql+psycopg://...")
        if scheme not in ("sqlite", "postgresql+psycopg"):
            raise ValueError(f"unsupported store {scheme!r} (use sqlite:///FILE or postgresql+psycopg://...)")
        return url
