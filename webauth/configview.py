"""``GET /api/config``: the effective configuration with every secret masked.

Useful at 3 a.m. ("which DSN is shop-db watching, what is the interval?")
and safe to paste into a ticket: values substituted from ``${ENV}``,
passwords inside URLs and conninfo strings, and every field whose name says
it holds a secret are replaced by ``***``.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask, current_app, jsonify
from flask.typing import ResponseReturnValue

from core.masking import MASK, mask
from webauth.context import WebauthRuntime, WebauthSettings

# Fields whose whole value is secret, whatever it looks like.
_SECRET_KEY = re.compile(r"(password|secret|token|webhook_url|api_key|credential)", re.IGNORECASE)


def masked_config(config: WebauthSettings) -> dict[str, Any]:
    data = config.model_dump(mode="json", by_alias=True)
    return _walk(data, config.secret_values, None)


def _walk(value: Any, secrets: frozenset[str], key: str | None) -> Any:
    if isinstance(value, dict):
        return {k: _walk(v, secrets, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, secrets, key) for v in value]
    # ``*_env`` fields name a variable (ack_secret_env: LOOKOUT_ACK_SECRET): the name is not the secret.
    secret_field = key is not None and _SECRET_KEY.search(key) and not key.endswith("_env")
    if secret_field and value not in (None, "", False, True):
        return MASK
    if isinstance(value, str):
        return mask(value, secrets)
    return value


EXTENSION = "lookout_configview"


def init_app(app: Flask, runtime: WebauthRuntime) -> None:
    app.extensions[EXTENSION] = runtime
    app.add_url_rule("/api/config", view_func=effective_config, methods=["GET"])


def effective_config() -> ResponseReturnValue:
    runtime: WebauthRuntime = current_app.extensions[EXTENSION]
    return jsonify(config=masked_config(runtime.config))
