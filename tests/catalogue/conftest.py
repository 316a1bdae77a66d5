"""The real servers the catalogue's live test collects from: the collectors' own fixtures."""
from __future__ import annotations

from tests.collectors.http.conftest import shop, shop_state  # noqa: F401 - fixtures
from tests.collectors.pool.conftest import app_pool  # noqa: F401 - fixtures
from tests.collectors.redis.conftest import redis7  # noqa: F401 - fixtures
