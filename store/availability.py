"""Whether an error means "the store is not there now" rather than "this write is bad".

Callers (the pipeline's write buffer, the alert jobs, the dashboard's banner)
keep going on the first kind and report it once per outage.
"""
from __future__ import annotations

from sqlalchemy import exc as sa_exc

# Errors that say "the store is not there / not writable now", not "this batch is bad".
UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)


def store_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, UNAVAILABLE) or bool(getattr(exc, "connection_invalidated", False))
