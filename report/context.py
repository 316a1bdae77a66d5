"""What the report reads of the running Lookout, typed without importing the composition.

The composition's ``Runtime`` and root ``Config`` satisfy these structurally
(members are read-only properties, so the richer types fit).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from promises.config import PromisesConfig
from store import Store
from store.config import StoreConfig


class ReportSettings(Protocol):
    """The sections of the root config the report reads."""

    @property
    def promises(self) -> PromisesConfig: ...


class ReportConfig(ReportSettings, Protocol):
    """What the command line needs besides: where the store is, and what to mask in errors."""

    @property
    def store(self) -> StoreConfig: ...

    @property
    def secret_values(self) -> frozenset[str]: ...

    def store_url(self) -> str: ...


class ReportRuntime(Protocol):
    @property
    def config(self) -> ReportSettings: ...

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Callable[[], float]: ...
