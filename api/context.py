"""What the JSON API reads of the running Lookout, typed without importing the composition.

The composition's ``Runtime`` satisfies :class:`ApiRuntime` structurally; tests
may pass anything with these attributes. Members are read-only properties so a
richer type (the root ``Config``, the ``Pipeline``) satisfies the narrower one.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from core.targets import TargetBase
from promises.config import PromisesConfig
from store import Store


class ApiConfig(Protocol):
    @property
    def targets(self) -> Sequence[TargetBase]: ...

    @property
    def promises(self) -> PromisesConfig: ...

    @property
    def secret_values(self) -> frozenset[str]: ...


class StoreBuffer(Protocol):
    """The collecting side's view of the store: taking writes, and what waits in memory."""

    def store_state(self) -> dict[str, Any]: ...


class SchedulerState(Protocol):
    @property
    def running(self) -> bool: ...


class ApiRuntime(Protocol):
    @property
    def config(self) -> ApiConfig: ...

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def role(self) -> str: ...

    @property
    def pipeline(self) -> StoreBuffer: ...

    @property
    def scheduler(self) -> SchedulerState | None: ...
