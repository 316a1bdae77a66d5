"""The settings every target has, whatever its kind.

Each collector module subclasses :class:`TargetBase` with ``kind:
Literal["..."]`` and its own connection settings; the composition's root config builds
the discriminated union of all of them from the collector registry.
"""
from __future__ import annotations

from pydantic import Field, model_validator

from core.configmodel import ConfigModel
from core.durations import Duration

_NAME = r"^[A-Za-z][A-Za-z0-9_.:-]*$"


class TargetBase(ConfigModel):
    name: str = Field(pattern=_NAME, description="Unique name; becomes the `target` label.")
    kind: str = Field(description="Collector kind, e.g. `postgres`, `redis`, `http`.")
    interval: Duration = Field(15.0, description="How often to collect, e.g. `15s`.")
    timeout: Duration | None = Field(
        None, description="Give up on one collection after this long; default 80% of the interval, at most 10s."
    )
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="Extra labels added to every series of the target.")

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> TargetBase:
        if self.interval <= 0:
            raise ValueError("interval must be positive")
        if self.timeout is None:
            object.__setattr__(self, "timeout", min(10.0, self.interval * 0.8))
        elif self.timeout >= self.interval:
            # A timeout as long as the interval lets a hung target queue runs.
            raise ValueError(f"timeout ({self.timeout:g}s) must be shorter than interval ({self.interval:g}s)")
        return self
