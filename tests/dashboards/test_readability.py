"""Charts and tables a person can read: no text label of a chart over another, every table value in its unit.

Its own store (not the shared ``lookout`` fixture's): a pool with waiting clients on a second
axis and thresholds, alerts that fire and resolve near the right edge of the view, a table of
dead tuples and vacuum ages, long transactions, the index audit: the cases where labels collided
and tables showed bare fractions.
"""
from __future__ import annotations

import re
import threading
import time
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from app import create_app
from composition.config import parse_config
from composition.runtime import build_runtime
from core.samples import Batch, Sample
from dashboards import PAGE_PATHS
from store import Store
from tests.dashboards.conftest import screenshot, wait_rendered
from tests.dashboards.seed import DB_ERROR, P95, STEP, samples_at

pytestmark = pytest.mark.browser

CONFIG = """\
targets:
  - {name: shop-db, kind: postgres, dsn: "postgresql://lookout@127.0.0.1:1/shop"}
  - {name: shop-cache, kind: redis, url: "redis://127.0.0.1:1/0"}
  - name: shop-api
    kind: http
    base_url: http://127.0.0.1:1
    probes: [{name: home, url: /}]
  - name: shop-sql
    kind: sql
    url: postgresql+psycopg://lookout@127.0.0.1:1/shop
    queries:
      - {name: revenue, sql: "select 1", metric: shop_revenue_total, help: "Revenue.", kind: counter}
  - name: shop-pool
    kind: pool
    apps: [{name: shop-api, url: "http://127.0.0.1:1/pool", fields: {in_use: a, idle: b, total: c, max: d}}]
alerting:
  rules:
    - name: cache_hit_ratio
      ratio:
        numerator: {metric: redis_keyspace_hits_total, agg: increase, window: 5m}
        denominator:
          - {metric: redis_keyspace_hits_total, agg: increase, window: 5m}
          - {metric: redis_keyspace_misses_total, agg: increase, window: 5m}
      op: "<"
      warning: 0.95
      critical: 0.9
      annotations:
        summary: "Cache hit rate {value:.0%} on {labels[target]}"
    - name: pool_utilization
      expr: {metric: lookout_pool_utilization_ratio, agg: avg, window: 30s}
      op: ">"
      warning: 0.80
      critical: 0.95
    - name: pool_waiting_clients
      expr: {metric: lookout_pool_waiting_clients, agg: min, window: 30s}
      op: ">"
      warning: 0
    - name: http_p95_latency
      expr: {metric: lookout_http_app_request_duration_seconds, match: {quantile: "0.95"}, agg: avg, window: 1m}
      op: ">"
      warning: 0.5
      critical: 1.0
"""
HOURS = 2.0
TABLES = [("orders", 1200.0, 0.6636, 375.0), ("payments", 80.0, 0.92, None), ("products", 3.0, 0.999, 86400.0 * 3)]


def pool_at(ago: float) -> tuple[float, float]:
    """(utilisation, waiting clients) ``ago`` seconds before now: busy 20-10 min ago with clients waiting
    from 100 s later (two alerts changing a little apart), exhausted 6-2 min ago."""
    if 120 <= ago < 360:
        return 0.97, 4.0
    if 600 <= ago < 1200:
        return 0.88, 1.0 if 500 <= ago < 1100 else 0.0
    return 0.4, 0.0


def p95_at(ago: float) -> float:
    """A 20-second spike 30-25 min ago: the 0.5 s and 1 s thresholds end up 4 px apart."""
    return 20.0 if 1500 <= ago < 1800 else P95


def db_up_at(ago: float) -> float:
    """shop-db was down 5-4 minutes ago and is down at the last poll."""
    return 0.0 if ago == 0 or 240 <= ago < 300 else 1.0


def write(runtime, now: float) -> None:
    store, pipeline = runtime.store, runtime.pipeline
    steps = int(HOURS * 3600 / STEP)
    for i in range(steps + 1):
        ts = now - (steps - i) * STEP
        util, waiting = pool_at(now - ts)
        pool = {"target": "shop-pool", "pool": "shop-api"}
        extra = [Sample("lookout_pool_utilization_ratio", util, pool),
                 Sample("lookout_pool_waiting_clients", waiting, pool),
                 Sample("pg_stat_activity_max_tx_duration", 42.0, {"target": "shop-db", "state": "active"}),
                 Sample("pg_locks_count", 3.0, {"target": "shop-db", "datname": "shop", "mode": "accesssharelock"}),
                 # A primary: postgres_exporter's lag metric says 0, which is no replica's lag.
                 Sample("pg_replication_lag_seconds", 0.0, {"target": "shop-db"}),
                 Sample("pg_replication_is_replica", 0.0, {"target": "shop-db"})]
        for rel, dead, hit, vac in TABLES:
            lab = {"target": "shop-db", "datname": "shop", "schemaname": "public", "relname": rel}
            extra += [Sample("pg_stat_user_tables_n_dead_tup", dead, lab),
                      Sample("lookout_pg_table_heap_cache_hit_ratio", hit, lab)]
            if vac is not None:
                extra.append(Sample("lookout_pg_table_vacuum_age_seconds", vac, lab))
        ups = [Sample("lookout_target_up", 1.0, {"target": t})
               for t in ("shop-cache", "shop-sql", "shop-api", "shop-pool")]
        ups.append(Sample("lookout_target_up", db_up_at(now - ts), {"target": "shop-db"}))
        base = [s if not (s.name == "lookout_http_app_request_duration_seconds" and s.labels["quantile"] == "0.95")
                else Sample(s.name, p95_at(now - ts), s.labels) for s in samples_at(i)]
        store.write_samples(ts, base + extra + ups)
        # Alerts evaluated at every poll of the last 40 minutes: they fire and resolve inside the view.
        if now - ts <= 2400:
            runtime.alert_engine.evaluate(ts)
    for target, kind in (("shop-cache", "redis"), ("shop-sql", "sql"), ("shop-api", "http"), ("shop-pool", "pool")):
        pipeline.handle(Batch(target=target, kind=kind, started_at=now), interval=STEP)
    pipeline.handle(Batch(target="shop-db", kind="postgres", started_at=now - STEP, documents={
        "pg_oldest_transactions": [{"pid": 4242, "datname": "shop", "usename": "shop", "state": "idle in transaction",
                                    "xact_age": 754.3, "query_age": 750.0,
                                    "query": "UPDATE orders SET status = 'paid'"}],
        "pg_blocking": {"blocked": [{"pid": 4343, "blocked_by": [4242], "chain": [4343, 4242], "query_age": 12.3,
                                     "xact_age": 13.0, "query": "UPDATE orders SET status = 'shipped'"}],
                        "roots": [{"pid": 4242, "blocks": 1}]},
        "pg_index_audit": {"unused": [{"indexrelname": "orders_note_idx", "relname": "orders",
                                       "size_bytes": 1_843_200}], "duplicate": [], "invalid": []},
        "pg_stat_statements": {"available": True, "top": [
            {"datname": "shop", "calls": 1520, "total_seconds": 0.0790, "mean_seconds": 0.000052,
             "query": "SELECT * FROM products WHERE id = $1"}]},
    }), interval=STEP)
    pipeline.handle(Batch(target="shop-db", kind="postgres", started_at=now, up=False, error=DB_ERROR),
                    interval=STEP)
    runtime.alert_engine.evaluate(now)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("readable")
    cfg = parse_config(CONFIG, env={}, base_dir=tmp)
    runtime = build_runtime(cfg, role="web", store=Store(f"sqlite:///{tmp / 'lookout.db'}"))
    now = time.time()
    write(runtime, now)
    server = make_server("127.0.0.1", 0, create_app(cfg, runtime=runtime), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="readable-test-server", daemon=True)
    thread.start()
    yield SimpleNamespace(runtime=runtime, url=f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(5)
    runtime.store.close()


# Every visible text of every plotly graph (tick labels, axis titles, legend, annotations), with its box.
TEXT_BOXES = r"""
const out = [];
for (const plot of document.querySelectorAll('#page .js-plotly-plot')) {
  if (plot.offsetParent === null) continue;   // a hidden panel says why in words instead
  const id = plot.closest('.dash-graph').id;
  const g = plot.getBoundingClientRect();
  for (const el of plot.querySelectorAll('svg text')) {
    if (el.closest('.hoverlayer')) continue;
    const text = el.textContent.trim();
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (!text || r.width < 1 || r.height < 1 || style.display === 'none' || style.visibility === 'hidden'
        || style.opacity === '0') continue;
    const note = el.closest('.annotation');
    out.push({graph: id, text, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom,
              inside: r.left >= g.left - 1 && r.right <= g.right + 1 && r.top >= g.top - 1 && r.bottom <= g.bottom + 1,
              rotated: !!(note && /rotate\((?!0[,)])/.test(note.innerHTML))});
  }
}
return out;"""


def overlaps(boxes: list[dict], slack: float = 1.0) -> list[str]:
    """Pairs of labels of the same graph whose boxes intersect by more than ``slack`` px each way."""
    found = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a["graph"] != b["graph"]:
                continue
            w = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            h = min(a["y1"], b["y1"]) - max(a["y0"], b["y0"])
            if w > slack and h > slack:
                found.append(f"{a['graph']}: {a['text']!r} over {b['text']!r} ({w:.0f}x{h:.0f} px)")
    return found


def open_page(br, shop, path: str, query: str = "?range=1h&refresh=off") -> None:
    br.driver.get(shop.url + path + query)
    wait_rendered(br)


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_no_two_text_labels_of_a_chart_overlap(browser, shop, path):
    open_page(browser, shop, path)
    boxes = browser.driver.execute_script(TEXT_BOXES)
    screenshot(browser, f"readable-{path.strip('/') or 'overview'}")
    assert overlaps(boxes) == []
    assert [f"{b['graph']}: {b['text']!r}" for b in boxes if not b["inside"]] == []  # cut off at the edge
    assert [f"{b['graph']}: {b['text']!r}" for b in boxes if b["rotated"]] == []  # no sideways labels


# A number with a decimal point and nothing after it: a ratio, a duration or a size without its unit.
BARE_DECIMAL = re.compile(r"^-?[\d,]*\.\d+$")
# A header that carries the unit its cells should carry: "Since vacuum (h)", "Tx age s", "Bytes".
UNIT_IN_HEADER = re.compile(r"(\([^)]*\)|\b(s|h|ms|min|bytes|Bytes|seconds))$")
CELLS = """
return Array.from(document.querySelectorAll('#page table')).filter(t => t.offsetParent !== null).map(t => ({
  head: Array.from(t.querySelectorAll('th')).map(th => th.textContent.trim()),
  rows: Array.from(t.querySelectorAll('tbody tr')).map(tr =>
    Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()))}));"""


@pytest.mark.parametrize("path", PAGE_PATHS)
def test_every_table_value_carries_its_unit(browser, shop, path):
    open_page(browser, shop, path)
    tables = browser.driver.execute_script(CELLS)
    bare = [(t["head"][i] if i < len(t["head"]) else "?", cell)
            for t in tables for row in t["rows"] for i, cell in enumerate(row) if BARE_DECIMAL.match(cell)]
    assert bare == []
    assert [h for t in tables for h in t["head"] if UNIT_IN_HEADER.search(h)] == []


def test_the_postgres_tables_read_as_durations_percentages_and_sizes(browser, shop):
    open_page(browser, shop, "/postgres")
    vacuum = browser.find_element("#pg-vacuum").text
    assert "Since vacuum" in vacuum and "6.2 min" in vacuum and "3.0 d" in vacuum and "never" in vacuum
    assert "12.6 min" in browser.find_element("#pg-oldest").text  # 754.3 s
    assert "12.3 s" in browser.find_element("#pg-blocking").text
    assert "1.8 MiB" in browser.find_element("#pg-indexes").text
    open_page(browser, shop, "/cache")
    assert "66.4 %" in browser.find_element("#cache-tables").text


def test_a_primary_without_replicas_draws_no_replication_lag(browser, shop):
    open_page(browser, shop, "/postgres")
    assert "no replica" in browser.find_element("#repl-msg").text
