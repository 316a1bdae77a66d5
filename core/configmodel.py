"""The base of every config model of every capability."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigModel(BaseModel):
    """Base for every config model: unknown keys are mistakes, not extras; parsed once, then frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
