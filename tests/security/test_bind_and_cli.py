"""The bind rule, the hash commands, and config that refuses plain secrets."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
import requests
from werkzeug.security import check_password_hash

from composition.config import parse_config
from core.errors import ConfigError
from tests.test_app_cli import ROOT, free_port
from webauth.cli import bind_refusal
from webauth.config import token_hash

OPEN_CONFIG = "store: {url: 'sqlite:///lookout.db'}\ntargets:\n  - {name: self, kind: process, interval: 1s}\n"


def test_serving_on_all_interfaces_without_auth_refuses_to_start(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(OPEN_CONFIG)
    res = subprocess.run([sys.executable, str(ROOT / "app.py"), "--config", str(cfg), "--host", "0.0.0.0",
                          "--port", str(free_port())], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=False)
    assert res.returncode == 2
    assert "refusing to listen on 0.0.0.0" in res.stderr and "--allow-unauthenticated" in res.stderr
    assert "Traceback" not in res.stderr


def test_the_explicit_flag_lets_it_start_on_all_interfaces(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(OPEN_CONFIG)
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--config", str(cfg), "--host", "0.0.0.0",
                             "--port", str(port), "--allow-unauthenticated"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline, status = time.time() + 30, None
        while time.time() < deadline and status is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code
            except requests.RequestException:
                time.sleep(0.3)
        assert status in (200, 503)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


def test_loopback_needs_no_flag_and_auth_lifts_the_rule():
    open_cfg = parse_config(OPEN_CONFIG, env={})
    assert bind_refusal(open_cfg, "127.0.0.1", False) is None
    assert bind_refusal(open_cfg, "::1", False) is None
    assert bind_refusal(open_cfg, "localhost", False) is None
    assert bind_refusal(open_cfg, "10.0.0.5", False) is not None
    secured = parse_config("auth: {session_secret: '${S}'}\n", env={"S": "x" * 32})
    assert bind_refusal(secured, "0.0.0.0", False) is None


def test_hash_password_prints_a_hash_that_checks():
    res = subprocess.run([sys.executable, str(ROOT / "app.py"), "hash-password"], input="s3cret-pass\n", check=False,
                         capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert check_password_hash(res.stdout.strip(), "s3cret-pass")


def test_hash_token_prints_a_token_and_its_hash():
    res = subprocess.run([sys.executable, str(ROOT / "app.py"), "hash-token"], capture_output=True, text=True,
                         check=False, timeout=30, cwd=ROOT)
    token = res.stdout.split("shown once): ")[1].split()[0]
    assert f"token_hash (put it in auth.tokens):        {token_hash(token)}" in res.stdout


@pytest.mark.parametrize("text, problem", [
    ("auth: {session_secret: short}\n", "at least 32 characters"),
    ("auth: {session_secret: '${S}', users: [{name: a, password_hash: hunter2}]}\n", "not a password"),
    ("auth: {session_secret: '${S}', tokens: [{name: t, token_hash: abc}]}\n", "sha256:<64 hex digits>"),
    ("auth: {session_secret: '${S}', tokens: [{name: t}]}\n", "exactly one of token_hash or token"),
])
def test_config_refuses_weak_or_plain_secrets(text, problem):
    with pytest.raises(ConfigError) as err:
        parse_config(text, env={"S": "x" * 32})
    assert problem in "\n".join(err.value.problems)
