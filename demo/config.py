"""The ``demo:`` section of config.yaml."""
from __future__ import annotations

from pydantic import Field

from core.configmodel import ConfigModel


class DemoConfig(ConfigModel):
    enabled: bool = Field(False, description=(
        "Start the embedded PostgreSQL, Redis, demo shop and its load (role all only)."))
    data_dir: str = Field("data/demo", description=(
        "Where the embedded servers keep their data (relative to the config)."))
    postgres_port: int = Field(55432, ge=1, le=65535, description="TCP port of the embedded PostgreSQL (127.0.0.1).")
    redis_port: int = Field(56379, ge=1, le=65535, description="TCP port of the embedded Redis (127.0.0.1).")
    shop_port: int = Field(8060, ge=1, le=65535, description="TCP port of the demo shop API (127.0.0.1).")
    load_rate: float = Field(20.0, ge=0, le=500, description="Requests per second the load generator sends.")
    scenarios: list[str] = Field(default_factory=list, description="Incident scenarios switched on at start.")
