"""Start Lookout with secrets in every place config allows, make things fail, then grep
everything it said (logs, every /api answer, /metrics, the dashboard) for each secret."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import requests
from werkzeug.security import generate_password_hash

from dashboards import PAGE_PATHS
from tests.test_app_cli import ROOT, free_port

SECRETS = {
    "PG_PASSWORD": "pgSecretValue-7f3a91",
    "SQL_PASSWORD": "sqlSecretValue-a1b2c3",
    "REDIS_PASSWORD": "redisSecretValue-5c2e88",
    "HTTP_TOKEN": "httpBearerSecret-99xq",
    "HTTP_PASSWORD": "httpPasswordSecret-42q",
    "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/services/T0SECRET/B0SECRET/slackPathSecret123",
    "SMTP_PASSWORD": "smtpSecretValue-31337",
    "SESSION_SECRET": "sessionSecretValue-" + "0123456789abcdef" * 2,
    "API_TOKEN": "apiTokenSecretValue-0123456789",
    "METRICS_TOKEN": "metricsTokenSecretValue-0123456789",
    "LOOKOUT_SECRET_KEY": "ackSigningSecretValue-0123",
}
USER_PASSWORD = "userPasswordSecretValue"
# Parts that would betray a secret even if the whole value were cut or re-encoded.
NEEDLES = [*SECRETS.values(), "slackPathSecret123", "T0SECRET/B0SECRET", USER_PASSWORD]

CONFIG = f"""\
store: {{url: 'sqlite:///lookout.db'}}
auth:
  session_secret: "${{SESSION_SECRET}}"
  cookie_secure: false
  users: [{{name: alice, password_hash: "{generate_password_hash(USER_PASSWORD, method='pbkdf2:sha256:1000')}"}}]
  tokens: [{{name: ci, token: "${{API_TOKEN}}", scope: write}}]
  metrics: {{bearer_token: "${{METRICS_TOKEN}}"}}
alerting:
  evaluation_interval: 1s
  rules:
    - {{name: target_down, expr: {{metric: lookout_target_up, window: 30s}}, op: "<", critical: 1}}
  notifications:
    receivers:
      - {{name: slack, slack: {{webhook_url: "${{SLACK_WEBHOOK_URL}}", timeout: 1s}}}}
      - {{name: mail, email: {{to: [oncall@example.com]}}}}
    smtp: {{host: 127.0.0.1, port: 9, security: none, username: lookout, password: "${{SMTP_PASSWORD}}",
           timeout: 1s}}
    retry: {{initial_backoff: 1s, max_backoff: 1s}}
targets:
  - {{name: pg-refused, kind: postgres, interval: 2s, timeout: 1s,
     dsn: "postgresql://lookout:${{PG_PASSWORD}}@127.0.0.1:9/postgres?connect_timeout=1"}}
  - {{name: pg-real, kind: postgres, interval: 2s, timeout: 1s, families: [instance],
     dsn: "postgresql://no_such_role:${{PG_PASSWORD}}@127.0.0.1:5432/postgres"}}
  - {{name: sql-nodb, kind: sql, interval: 2s, timeout: 1s,
     url: "postgresql+psycopg://postgres:${{SQL_PASSWORD}}@127.0.0.1:5432/no_such_database",
     queries: [{{name: one, metric: shop_one, help: One., sql: SELECT 1}}]}}
  - {{name: cache, kind: redis, interval: 2s, timeout: 1s, url: "redis://127.0.0.1:6379/0",
     password: "${{REDIS_PASSWORD}}"}}
  - {{name: api, kind: http, interval: 2s, timeout: 1s,
     base_url: "http://probe:${{HTTP_PASSWORD}}@127.0.0.1:9",
     headers: {{Authorization: "Bearer ${{HTTP_TOKEN}}"}}, probes: [{{name: health, url: /health}}]}}
"""


def test_no_secret_appears_in_logs_api_metrics_or_dashboard(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, **SECRETS}
    proc = subprocess.Popen([sys.executable, "-X", "faulthandler", str(ROOT / "app.py"), "--config", str(cfg),
                             "--port", str(port), "--log-level", "DEBUG"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers: dict[str, str] = {}
    api, browser = requests.Session(), requests.Session()
    try:
        api.headers["Authorization"] = f"Bearer {SECRETS['API_TOKEN']}"
        deadline = time.time() + 30
        while time.time() < deadline:  # a few cycles: every target failed, the alert fired, sends failed
            try:
                outbox = api.get(f"{base}/api/outbox", timeout=2).json()["rows"]
                targets = api.get(f"{base}/api/targets", timeout=2).json()["targets"]
                failing = {t["name"] for t in targets if t["last_error"]}
                if {"pg-refused", "pg-real", "sql-nodb", "cache"} <= failing and any(r["attempts"] for r in outbox):
                    break
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.5)
        time.sleep(2)
        # Every JSON route, as an API client sees it.
        for path in ["/api/health", "/api/targets", "/api/metrics", "/api/alerts", "/api/alerts/report",
                     "/api/silences?all=1", "/api/outbox", "/api/demo/scenarios", "/api/config",
                     "/api/openapi.json", "/api/series?name=lookout_target_up&start=now-10m"]:
            answers[path] = api.get(base + path, timeout=10).text
        for alert in api.get(f"{base}/api/alerts", timeout=10).json()["alerts"]:
            answers[f"alert {alert['id']}"] = api.get(f"{base}/api/alerts/{alert['id']}", timeout=10).text
        answers["/api/health anonymous"] = requests.get(f"{base}/api/health", timeout=10).text
        answers["/metrics"] = requests.get(f"{base}/metrics", timeout=10,
                                           headers={"Authorization": f"Bearer {SECRETS['METRICS_TOKEN']}"}).text
        # The dashboard, as alice's browser sees it.
        page = browser.get(f"{base}/login", timeout=10).text
        form_token = re.search(r"name='csrf_token' value='([^']+)'", page).group(1)
        browser.post(f"{base}/login", timeout=10, data={"username": "alice", "password": USER_PASSWORD,
                                                         "csrf_token": form_token, "next": "/"})
        csrf = {"X-CSRFToken": browser.cookies["_csrf_token"]}
        for path in ["/", "/_dash-layout", "/_dash-dependencies"]:
            res = browser.get(base + path, timeout=10)
            assert res.status_code == 200, path
            answers["dash " + path] = res.text
        deps = browser.get(f"{base}/_dash-dependencies", timeout=10).json()
        route = next(d for d in deps if d["output"].startswith("..page.children"))
        for page_path in PAGE_PATHS:
            body = {"output": route["output"], "outputs": [{"id": "page", "property": "children"},
                                                           {"id": "current-path", "property": "data"}],
                    "inputs": [{"id": "url", "property": "pathname", "value": page_path}],
                    "state": [{"id": "current-path", "property": "data", "value": None}], "changedPropIds": []}
            res = browser.post(f"{base}/_dash-update-component", json=body, headers=csrf, timeout=30)
            assert res.status_code in (200, 204), (page_path, res.status_code, res.text[:200])
            answers["dash page " + page_path] = res.text
    finally:
        # Idle keep-alive connections hold waitress' loop open after SIGTERM: close ours first.
        api.close()
        browser.close()
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30)
            hung = False
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)  # faulthandler prints every thread's stack
            out, err = proc.communicate(timeout=30)
            hung = True
    answers["stdout"], answers["stderr"] = out, err
    # The run must actually have exercised the failures it is about.
    targets = answers["/api/targets"]
    assert "pg-refused" in targets and targets.count('"last_error":null') <= 1, targets
    assert re.search(r'"attempts":[1-9]', answers["/api/outbox"]), answers["/api/outbox"][:500]
    assert "***" in answers["/api/config"]
    assert "no_such_role" in answers["stderr"]  # the grep sees the errors it is checking
    leaks = [(needle, where) for where, text in answers.items() for needle in NEEDLES if needle in text]
    assert leaks == [], leaks
    assert not hung, "Lookout did not stop within 30 s of SIGTERM:\n" + err[-6000:]
