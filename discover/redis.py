"""Ask a Redis server its version, role and databases for the ``redis`` target."""
from __future__ import annotations

import redis

from collectors.redis import safe_url
from discover.findings import Findings, Redis
from discover.placeholders import split_password

PART = "redis"
ENV = "REDIS_PASSWORD"


def probe(url: str, found: Findings, timeout: float = 5.0) -> Redis | None:
    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                      decode_responses=True, client_name="lookout-discover")
        try:
            info = client.info("all")
            try:
                databases: int | None = int(str(client.config_get("databases").get("databases") or 0)) or None
            except redis.ResponseError:  # CONFIG refused by an ACL or renamed: INFO is what matters
                databases = None
        finally:
            client.close()
    except redis.RedisError as exc:
        found.notes.missing(PART, f"cannot reach {safe_url(url)}: {exc.__class__.__name__}: {exc}; no redis target "
                                  "written (a password goes in the URL for discover, as redis://:PASSWORD@host)")
        return None
    clean, user, had_password = split_password(url)
    if had_password:
        found.env[ENV] = "the Redis password" + (f" of ACL user {user}" if user else "")
    keyspace = {int(k[2:]): int(v.get("keys", 0)) for k, v in info.items()
                if k.startswith("db") and k[2:].isdigit() and isinstance(v, dict)}
    role = str(info.get("role", "?"))
    r = Redis(url=clean, username=user, password_env=ENV if had_password else None,
              version=str(info.get("redis_version", "?")), role=role, databases=databases, keyspace=keyspace)
    where = f" of {info.get('master_host')}:{info.get('master_port')}" if role == "slave" else ""
    used = ", ".join(f"db{d} ({n} keys)" for d, n in sorted(keyspace.items())) or "no keys yet"
    found.notes.found(PART, f"Redis {r.version} at {safe_url(url)}, role {role}{where}, "
                            f"{databases or '?'} databases, in use: {used}")
    return r
