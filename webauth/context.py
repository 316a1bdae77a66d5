"""What webauth reads of the running Lookout, typed without importing the composition.

The composition's ``Runtime`` and root ``Config`` satisfy these structurally;
members are read-only properties so the richer types satisfy the narrower ones.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy.engine import Engine

from webauth.config import AuthConfig


class ServerSettings(Protocol):
    @property
    def public_url(self) -> str | None: ...


class WebauthSettings(Protocol):
    """The root config as webauth sees it: its own section, the public URL, the secrets to mask."""

    @property
    def auth(self) -> AuthConfig | None: ...

    @property
    def server(self) -> ServerSettings: ...

    @property
    def secret_values(self) -> frozenset[str]: ...

    def model_dump(self, *, mode: str = ..., by_alias: bool = ...) -> dict[str, Any]: ...


class StoreDatabase(Protocol):
    """The store as webauth uses it: its database, for the revoked-sessions table."""

    @property
    def engine(self) -> Engine: ...


class WebauthRuntime(Protocol):
    @property
    def config(self) -> WebauthSettings: ...

    @property
    def clock(self) -> Callable[[], float]: ...

    @property
    def store(self) -> StoreDatabase: ...
