"""``kind: sql``: business metrics from named read-only queries.

Example::

    - name: shop
      kind: sql
      url: postgresql+psycopg://lookout:${SHOP_DB_PASSWORD}@db/shop
      interval: 15s
      queries:
        - name: orders_per_minute
          metric: shop_orders_per_minute
          help: Orders created in the last minute.
          sql: SELECT count(*) FROM orders WHERE created_at > now() - interval '1 minute'

A query returns one number, or rows of (label columns..., value).
"""
from __future__ import annotations

from collectors.sql.collector import SqlCollector
from collectors.sql.config import SqlQuery, SqlTarget

__all__ = ["SqlCollector", "SqlQuery", "SqlTarget"]
