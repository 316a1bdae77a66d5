"""The server settings redis_exporter exports from CONFIG GET, in its names.

Asked one key each in the poll's pipeline (Redis 6.2 takes one pattern per CONFIG GET;
``CONFIG GET *`` would return ~200 settings to throw away). An error reply (CONFIG
renamed on managed Redis) leaves that setting out, except maxclients and maxmemory,
which INFO reports too (``fallback``): memory and client panels keep working there.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from collectors.redis.parse import number
from core.samples import Sample

CONFIG_KEYS = ("maxclients", "databases", "io-threads", "maxmemory", "repl-backlog-size",
               "client-output-buffer-limit")
# Exported as redis_config_<key with "_">, as the exporter does.
_GAUGES = {"io-threads": "The io-threads setting.", "maxclients": "The maxclients setting.",
           "maxmemory": "The maxmemory setting.", "repl-backlog-size": "The repl-backlog-size setting."}


def config_text(reply: Any) -> str | None:
    """CONFIG GET in a pipeline comes back as a flat [name, value] list; anything else is "unknown"."""
    if isinstance(reply, list) and len(reply) >= 2:
        return str(reply[1])
    return None


def config_value(reply: Any) -> float | None:
    return number(config_text(reply))


def config_samples(replies: dict[str, Any], fallback: dict[str, float | None]) -> Iterator[Sample]:
    for key, help_ in _GAUGES.items():
        if (v := config_value(replies.get(key))) is None:
            v = fallback.get(key)
        if v is not None:
            yield Sample(f"redis_config_{key.replace('-', '_')}", v, help=help_)
    # "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60": class, hard, soft, seconds.
    parts = (config_text(replies.get("client-output-buffer-limit")) or "").split()
    for i in range(0, len(parts) - 3, 4):
        cls = parts[i]
        for limit, raw in (("hard", parts[i + 1]), ("soft", parts[i + 2])):
            if (v := number(raw)) is not None:
                yield Sample("redis_config_client_output_buffer_limit_bytes", v, {"class": cls, "limit": limit},
                             help="The configured buffer limits per class.")
        if (v := number(parts[i + 3])) is not None:
            yield Sample("redis_config_client_output_buffer_limit_overcome_seconds", v,
                         {"class": cls, "limit": "soft"},
                         help="How long for buffer limits per class to be exceeded before replicas are dropped.")
