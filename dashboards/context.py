"""What the dashboard reads of the running Lookout, typed without importing the composition.

The composition's ``Runtime`` satisfies :class:`DashboardRuntime` structurally.
Members are read-only properties, so a richer type (the root ``Config``, the
``Pipeline``, the ``Notifier``) satisfies the narrower one here.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from dash import Dash

from alerts.config import AlertingConfig
from alerts.engine import AlertEngine
from core.targets import TargetBase
from dashboards.bucket_cache import BucketCache
from dashboards.config import DashboardsConfig
from promises.config import PromisesConfig
from store import Store


class DashboardSettings(Protocol):
    """The sections of the root config the pages read."""

    @property
    def dashboards(self) -> DashboardsConfig: ...

    @property
    def targets(self) -> Sequence[TargetBase]: ...

    @property
    def alerting(self) -> AlertingConfig: ...

    @property
    def promises(self) -> PromisesConfig: ...


class StoreBuffer(Protocol):
    """The collecting side's view of the store: taking writes, and what waits in memory."""

    def store_state(self) -> dict[str, Any]: ...


class OutboxReader(Protocol):
    """The notifier's outbox, as the alerts page lists it."""

    def outbox_rows(self, status: str | None = None, limit: int = 200) -> list[dict[str, Any]]: ...


class DashboardRuntime(Protocol):
    @property
    def config(self) -> DashboardSettings: ...

    @property
    def store(self) -> Store: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def bucket_cache(self) -> BucketCache: ...

    @property
    def collects(self) -> bool:
        """Whether this process collects (then ``pipeline`` knows the store's state without a query)."""

    @property
    def pipeline(self) -> StoreBuffer: ...

    @property
    def alert_engine(self) -> AlertEngine | None:
        """Where acks and silences are written; None where the process has no alerting."""

    @property
    def notifier(self) -> OutboxReader | None: ...


class Page(Protocol):
    """One dashboard page: a module under ``dashboards/pages`` with these names."""

    PATH: str
    TITLE: str

    def layout(self, runtime: DashboardRuntime) -> Any: ...

    def register(self, app: Dash, runtime: DashboardRuntime) -> Callable[..., Any]:
        """Wire the page's callbacks; returns its refresh callback."""
