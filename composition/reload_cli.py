"""``python app.py reload [--config F] [--host H] [--port P]``: make a running Lookout reload its config.

The file was already checked here (app.py loads it first: a bad file exits 1 with its
problems and nothing is sent). Then ``POST /api/reload`` goes to the server the file names
(``server.host``/``server.port``, or ``--host``/``--port``); the server reads *its own*
file again, checks it the same way and answers what it applied, or refused and why.

With ``auth:`` the call needs an API token of ``write`` scope: ``LOOKOUT_TOKEN`` from the
environment, else a write token the config gives as ``token: "${ENV}"`` (the variable is
set here as for the server). Exit 0 when applied, 1 when refused or unreachable.
"""
from __future__ import annotations

import argparse
import os
import sys

import requests

from composition.config import Config

TOKEN_ENV = "LOOKOUT_TOKEN"
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


def reload_url(config: Config, host: str | None, port: int | None) -> str:
    host = host if host is not None else config.server.host
    host = WILDCARDS.get(host, host)  # a server bound to every address answers on the loopback
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port or config.server.port}/api/reload"


def write_token(config: Config, env: dict[str, str] | None = None) -> str | None:
    env = dict(os.environ) if env is None else env
    if env.get(TOKEN_ENV):
        return env[TOKEN_ENV]
    if config.auth is None:
        return None
    return next((t.token for t in config.auth.tokens if t.scope == "write" and t.token), None)


def run(config: Config, args: argparse.Namespace) -> int:
    url = reload_url(config, args.host, args.port)
    token = write_token(config)
    if config.auth is not None and token is None:
        print(f"reload: the server has auth: set {TOKEN_ENV} to an API token of write scope "
              "(python app.py hash-token makes one; put its hash under auth.tokens)", file=sys.stderr)
        return 1
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        res = requests.post(url, headers=headers, timeout=60)
    except requests.RequestException as exc:
        print(f"reload: Lookout is not reachable at {url}: {exc}", file=sys.stderr)
        return 1
    try:
        body = res.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict) or "status" not in body:
        print(f"reload: {res.status_code} {res.text.strip()[:500]}", file=sys.stderr)
        return 1
    if body["status"] != "applied":
        print(f"reload: refused ({res.status_code}), the running config stays: {body.get('error', '')}",
              file=sys.stderr)
        for problem in body.get("errors") or []:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(_applied(body))
    for line in body.get("restart_needed") or []:
        print(f"  warning: {line}", file=sys.stderr)
    return 0


def _applied(body: dict) -> str:
    targets = body.get("targets") or {}
    parts = [f"targets {verb}: {', '.join(targets[verb])}" for verb in ("added", "removed", "changed")
             if targets.get(verb)]
    parts += body.get("changes") or []
    return f"reloaded {body.get('path')}: " + ("; ".join(parts) or "nothing changed")
