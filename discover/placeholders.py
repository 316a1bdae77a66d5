"""Passwords out of DSNs and URLs: the written config names an environment variable instead.

    >>> without_password("postgresql://shop:s3cret@db:5432/shop", "PG_PASSWORD")
    ('postgresql://shop:${PG_PASSWORD}@db:5432/shop', True)
    >>> without_password("host=db user=shop password=s3cret", "PG_PASSWORD")
    ('host=db user=shop password=${PG_PASSWORD}', True)
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_KV_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)


def without_password(dsn: str, env: str) -> tuple[str, bool]:
    """The DSN or URL with its password replaced by ``${env}``, and whether it had one."""
    if "://" not in dsn:
        new = _KV_PASSWORD.sub(lambda m: m.group(1) + ("${" + env + "}" if m.group(2) != "''" else "''"), dsn)
        return new, new != dsn
    parts = urlsplit(dsn)
    found = False
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        user, password = userinfo.split(":", 1)
        netloc = f"{user}:${{{env}}}@{host}" if password else f"{user}@{host}"  # user:@host: no password
        found = bool(password)
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(k.lower() == "password" for k, _ in pairs):
        query = urlencode([(k, "PLACEHOLDER" if k.lower() == "password" else v) for k, v in pairs])
        query = query.replace("PLACEHOLDER", "${" + env + "}")
        found = True
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment)), found


def split_password(url: str) -> tuple[str, str | None, bool]:
    """A Redis URL without user and password, the user name, and whether it had a password."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    if not at:
        return url, None, False
    user, _, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    return clean, (user or None), bool(password)
