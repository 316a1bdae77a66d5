"""``kind: http``: probes of the application's endpoints.

Modules: ``config`` (target and probe models), ``probe`` (one request with
redirects, capped body and checks), ``transport`` (connect/TLS timing and the
peer certificate from urllib3's own connection), ``health_json``,
``prom_scrape`` and ``quantiles`` (Prometheus histogram_quantile), ``jsonpath``
and ``collector`` (the poll of one target).
"""
from __future__ import annotations

from collectors.http.collector import HttpCollector
from collectors.http.config import HttpTarget, Probe

__all__ = ["HttpCollector", "HttpTarget", "Probe"]
