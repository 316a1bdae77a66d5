"""The ``dashboards:`` config section: the shop's business metric names and panel resolution.

The shop's promises (the overview's cards and the lines on panels) are the
``promises:`` section (promises/config.py), defined once for cards, alerts,
the API and the report.
"""
from __future__ import annotations

from pydantic import Field

from core.configmodel import ConfigModel


class Business(ConfigModel):
    """Metric names of the shop's business SQL (``kind: sql`` targets name them)."""

    revenue: str = Field("shop_revenue_total", description="Counter of revenue (currency units).")
    orders: str = Field("shop_orders_total", description="Counter of orders placed.")
    payments: str = Field("shop_payments_total", description="Counter of payments, with a status label.")
    payment_status_label: str = Field("status", description="Label of `payments` holding the outcome.")
    payment_failed: str = Field("failed|failure|error|declined", description="Regex of failed outcomes.")
    currency: str = Field("€", description="Shown next to revenue figures.")


class DashboardsConfig(ConfigModel):
    business: Business = Field(default_factory=Business)
    points: int = Field(180, ge=50, le=1000,
                        description="Buckets per series on time-series panels (about 3 px each on a laptop).")
