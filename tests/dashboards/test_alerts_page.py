"""The alerts page's buttons write through the runtime's alert engine, and only through it."""
from __future__ import annotations

import json
import time

import pytest

from alerts import queries
from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from store import Store
from tests.dashboards.seed import CONFIG, seed


@pytest.fixture
def lookout(tmp_path):
    cfg = parse_config(CONFIG, env={}, base_dir=tmp_path)
    rt = build_runtime(cfg, role="web", store=Store(f"sqlite:///{tmp_path / 'l.db'}"))
    seed(rt, time.time())
    yield rt, create_app(cfg, runtime=rt).test_client()
    rt.store.close()


def press(client, button: str | dict, *, matchers: str = "", author: str = "", comment: str = "") -> str:
    """What the page says after a button press, as Dash's renderer would send it."""
    deps = client.get("/_dash-dependencies").get_json()
    cb = next(d for d in deps if d["output"].startswith("..sil-status.children"))
    pressed = [{"id": button, "property": "n_clicks", "value": 1}] if isinstance(button, dict) else []
    body = {
        "output": cb["output"],
        "outputs": [{"id": "sil-status", "property": "children"}, {"id": "alerts-bump", "property": "data"}],
        "inputs": [{"id": "sil-create", "property": "n_clicks", "value": 1 if button == "sil-create" else None},
                   [], pressed],
        "state": [{"id": "sil-matchers", "property": "value", "value": matchers},
                  {"id": "sil-duration", "property": "value", "value": "1h"},
                  {"id": "sil-author", "property": "value", "value": author},
                  {"id": "sil-comment", "property": "value", "value": comment},
                  {"id": "alerts-bump", "property": "data", "value": 0}],
        "changedPropIds": [(json.dumps(button, sort_keys=True, separators=(",", ":"))
                            if isinstance(button, dict) else button) + ".n_clicks"],
    }
    res = client.post("/_dash-update-component", json=body)
    assert res.status_code == 200, res.text[:300]
    return json.dumps(res.get_json()["response"]["sil-status"]["children"])


def test_a_silence_made_on_the_page_is_written_by_the_runtime_engine(lookout):
    rt, client = lookout
    said = press(client, "sil-create", matchers="target=shop-cache", author="ana", comment="resizing")
    assert "created" in said
    [s] = queries.list_silences(rt.store.engine, False, rt.clock())
    assert (s.author, s.comment, [m.value for m in s.matchers]) == ("ana", "resizing", ["shop-cache"])


def test_an_ack_on_the_page_is_written_by_the_runtime_engine(lookout):
    rt, client = lookout
    [firing] = [a for a in queries.open_alerts(rt.store.engine) if a.state == "firing" and a.rule == "CacheHitRateLow"]
    said = press(client, {"type": "ack", "id": firing.id}, author="bob")
    assert f"alert {firing.id} acknowledged" in said
    [acked] = [a for a in queries.open_alerts(rt.store.engine) if a.id == firing.id]
    assert acked.acked_by == "bob"


def test_without_an_alert_engine_the_page_says_so_and_writes_nothing(lookout):
    rt, client = lookout
    rt.alert_engine = None
    said = press(client, "sil-create", matchers="target=shop-cache", author="ana", comment="resizing")
    assert "alerting does not run in this process" in said
    assert queries.list_silences(rt.store.engine, True, rt.clock()) == []
