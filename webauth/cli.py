"""CLI helpers for app.py: the bind rule and the hash commands.

    python app.py hash-password          # prompts; prints a werkzeug hash for auth.users
    python app.py hash-token             # prints a new random token and its hash for auth.tokens
"""
from __future__ import annotations

import argparse
import getpass
import ipaddress
import secrets
import sys
from typing import Any

from werkzeug.security import generate_password_hash

from webauth.config import token_hash

COMMANDS = ("hash-password", "hash-token")
FLAG = "--allow-unauthenticated"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(FLAG, action="store_true",
                   help="serve on a non-loopback address without an auth: section (everyone on the network "
                        "can read and silence alerts)")


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def bind_refusal(config: Any, host: str, allow_unauthenticated: bool) -> str | None:
    """Why Lookout must not start on ``host``, or None."""
    if is_loopback(host) or getattr(config, "auth", None) is not None or allow_unauthenticated:
        return None
    return (f"refusing to listen on {host}: no auth: section is configured, so anyone who can reach this "
            f"address could read every dashboard and silence alerts. Configure auth (README.md#security), "
            f"bind to 127.0.0.1, or pass {FLAG} if the network in front of Lookout does the authentication.")


def run(command: str, stdin: Any = None) -> int:
    stdin = stdin or sys.stdin
    if command == "hash-token":
        token = secrets.token_urlsafe(32)
        print(f"token (give it to the script; shown once): {token}")
        print(f"token_hash (put it in auth.tokens):        {token_hash(token)}")
        return 0
    if stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            print("the passwords differ", file=sys.stderr)
            return 1
    else:
        password = stdin.readline().rstrip("\n")
    if len(password) < 8:
        print("use at least 8 characters", file=sys.stderr)
        return 1
    print(generate_password_hash(password))
    return 0
