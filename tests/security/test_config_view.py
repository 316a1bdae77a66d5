"""GET /api/config: the effective config, every secret masked."""
from __future__ import annotations

from tests.security.conftest import READ_TOKEN, SESSION_SECRET, WRITE_TOKEN, make_app

CONFIG = """\
auth:
  session_secret: "${SESSION}"
  tokens: [{name: bot, token: "${WRITE}", scope: write}]
alerting:
  notifications:
    receivers: [{name: slack, slack: {webhook_url: "${SLACK}"}}]
    smtp: {host: smtp.example.com, username: lookout, password: "${SMTP}"}
targets:
  - {name: db, kind: postgres, dsn: "postgresql://lookout:${PG}@db.example.com/postgres"}
  - {name: biz, kind: sql, url: "postgresql+psycopg://lookout:literal-pw@db.example.com/shop",
     queries: [{name: one, metric: shop_one, help: One., sql: SELECT 1}]}
"""
ENV = {"SESSION": SESSION_SECRET, "WRITE": WRITE_TOKEN, "SLACK": "https://hooks.slack.com/services/T1/B2/xyz",
       "SMTP": "smtp-pass-123", "PG": "pg-pass-456"}


def test_the_config_view_masks_every_secret_and_keeps_the_rest(tmp_path):
    app, runtime = make_app(tmp_path, CONFIG, env=ENV)
    try:
        res = app.test_client().get("/api/config", headers={"Authorization": f"Bearer {WRITE_TOKEN}"})
        text = res.get_data(as_text=True)
        assert res.status_code == 200
        for secret in [*ENV.values(), "literal-pw", "hooks.slack.com"]:
            assert secret not in text, secret
        cfg = res.json["config"]
        assert cfg["targets"][0]["dsn"] == "postgresql://lookout:***@db.example.com/postgres"
        assert cfg["alerting"]["notifications"]["smtp"]["host"] == "smtp.example.com"
        assert cfg["auth"]["tokens"][0] == {"name": "bot", "token": "***", "token_hash": None, "scope": "write"}
    finally:
        runtime.store.close()


def test_the_config_view_needs_a_credential(secured):
    assert secured.test_client().get("/api/config").status_code == 401
    ok = secured.test_client().get("/api/config", headers={"Authorization": f"Bearer {READ_TOKEN}"})
    assert ok.status_code == 200
