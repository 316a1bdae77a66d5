"""``GET /api/config``: the effective configuration with every secret masked.

Useful at 3 a.m. ("which DSN is shop-db watching, what is the interval?")
and safe to paste into a ticket: values substituted from ``${ENV}``,
passwords inside URLs and conninfo strings, and every field whose name says
it holds a secret are replaced by ``***``.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, jsonify

from core.masking import MASK, mask

# Fields whose whole value is secret, whatever it looks like.
_SECRET_KEY = re.compile(r"(password|secret|token|webhook_url|api_key|credential)", re.IGNORECASE)


def masked_config(config: Any) -> dict[str, Any]:
    data = config.model_dump(mode="json", by_alias=True)
    return _walk(data, config.secret_values, None)


def _walk(value: Any, secrets: frozenset[str], key: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, secrets, key) for v in value]
    # ``*_env`` fields name a variable (ack_secret_env: LOOKOUT_ACK_SECRET): the name is not the secret.
    if key is not None and _SECRET_KEY.search(key) and not key.endswith("_env") and value not in (None, "", False, True):
        return MASK
    if isinstance(value, str):
        return mask(value, secrets)
    return value


def init_app(app: Flask, runtime: Any) -> None:
    @app.get("/api/config")
    def effective_config():  # type: ignore[no-untyped-def]
        return jsonify(config=masked_config(runtime.config))
