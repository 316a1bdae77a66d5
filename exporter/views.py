"""``GET /metrics``: the snapshot's pre-rendered bytes, negotiated like prometheus_client.

The view does no rendering and no I/O beyond the response; a later auth layer
can wrap the function returned by :func:`metrics_view`.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, request

from exporter.snapshot import Snapshot

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def _params(media_range: str) -> tuple[str, dict[str, str]]:
    kind, *params = (p.strip() for p in media_range.split(";"))
    pairs = (p.split("=", 1) for p in params if "=" in p)
    return kind.lower(), {k.strip().lower(): v.strip().strip('"') for k, v in pairs}


def _refused(params: dict[str, str]) -> bool:
    try:
        return float(params.get("q", "1")) <= 0
    except ValueError:
        return False


def wants_openmetrics(accept: str) -> bool:
    """Like prometheus_client: any acceptable ``application/openmetrics-text``
    of version 1.0.0 or later (or no version) selects OpenMetrics.

    Prometheus' own 0.0.1 OpenMetrics range is skipped: we only write 1.0.0.
    """
    for media_range in accept.split(","):
        kind, params = _params(media_range)
        if kind != "application/openmetrics-text" or _refused(params):
            continue
        version = params.get("version")
        if version is None or _version_tuple(version) >= (1, 0, 0):
            return True
    return False


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (0,)


def accepts_gzip(accept_encoding: str) -> bool:
    for coding in accept_encoding.split(","):
        name, params = _params(coding)
        if name == "gzip" and not _refused(params):
            return True
    return False


def metrics_view(snapshot: Snapshot) -> Callable[[], Response]:
    def metrics() -> Response:
        openmetrics = wants_openmetrics(request.headers.get("Accept", ""))
        gzipped = accepts_gzip(request.headers.get("Accept-Encoding", ""))
        response = Response(
            snapshot.body(openmetrics, gzipped=gzipped),
            content_type=OPENMETRICS_CONTENT_TYPE if openmetrics else TEXT_CONTENT_TYPE,
        )
        if gzipped:
            response.headers["Content-Encoding"] = "gzip"
        response.headers["Vary"] = "Accept, Accept-Encoding"
        response.headers["Cache-Control"] = "no-store"
        return response

    return metrics


def init_app(app: Flask, snapshot: Snapshot) -> None:
    """Register ``GET /metrics`` (endpoint ``exporter.metrics``) serving ``snapshot``."""
    app.add_url_rule("/metrics", endpoint="exporter.metrics", view_func=metrics_view(snapshot),
                     methods=["GET"])
