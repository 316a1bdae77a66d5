"""Keep secrets out of anything Lookout shows or writes.

Secret values are the ones substituted from ``${ENV}`` in config.yaml, plus
passwords embedded in URLs. Everything that leaves the process as text
(error strings stored and shown, log lines, API answers) passes through
:func:`mask`.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

_URL_PASSWORD = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
_KV_PASSWORD = re.compile(r"(?P<key>\bpassword\s*=\s*)(?P<pw>'[^']*'|\S+)", re.I)

MASK = "***"


def mask(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace secret values and URL/conninfo passwords with ``***``."""
    if not text:
        return text
    # Longest first, so a secret that contains another is masked whole.
    for s in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(s, MASK)
    text = _URL_PASSWORD.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['key']}{MASK}", text)
