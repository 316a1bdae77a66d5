"""dashboards.fetch, series, the promise cards and timerange without a browser, on a real SQLite store."""
from __future__ import annotations

import math
import time

import pytest
from sqlalchemy import event

from composition.config import parse_config
from composition.runtime import build_runtime
from dashboards import cards, series
from dashboards.fetch import MAX_POINTS, Fetch
from dashboards.pages.overview import alert_list
from dashboards.timerange import View, parse_search, to_search
from store import Store
from tests.dashboards.seed import CONFIG, HIT_RATIO, REVENUE_PER_STEP, SUMMARY, seed


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("data")
    cfg = parse_config(CONFIG, env={}, base_dir=tmp)
    rt = build_runtime(cfg, role="web", store=Store(f"sqlite:///{tmp / 'l.db'}"))
    rt.seeded_at = time.time()
    seed(rt, rt.seeded_at)
    yield rt
    rt.store.close()


def fetch_for(rt, rng: str = "1h", **kw) -> Fetch:
    return Fetch(rt, parse_search(f"?range={rng}", rt.seeded_at), **kw)


@pytest.mark.parametrize("rng", ["15m", "1h", "6h", "24h"])
def test_counter_rates_are_exact_at_every_range_despite_15_second_polls(runtime, rng):
    [r] = fetch_for(runtime, rng).ranges("shop_revenue_total", "rate")
    rates = [b.avg for b in r.points]
    if rng in ("6h", "24h"):
        rates = rates[1:]  # two hours are stored: the bucket where the data begins is partly empty
    assert rates and all(x == pytest.approx(REVENUE_PER_STEP / 15.0) for x in rates)


@pytest.mark.parametrize("rng", ["15m", "1h", "6h", "24h", "7d", "30d"])
def test_rate_buckets_are_whole_multiples_of_the_poll_interval(runtime, rng):
    f = fetch_for(runtime, rng)
    [r] = f.ranges("redis_keyspace_hits_total", "rate")
    width = f.bucket_seconds(f.view.span, "rate")
    assert width % 15 == 0
    assert r.points and all(b.ts % width == 0 for b in r.points)  # edges on epoch multiples of the width


def test_no_series_gets_more_than_a_thousand_points(runtime):
    f = fetch_for(runtime, "1h", points=5000)
    for mode in ("value", "rate"):
        for r in f.ranges("redis_keyspace_hits_total", mode):
            assert len(r.points) <= MAX_POINTS


def test_one_fetch_reads_each_range_once_for_all_the_figures_that_need_it(runtime):
    f = fetch_for(runtime)
    f.ranges("lookout_target_up")
    statements = []
    listen = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(runtime.store.engine, "before_cursor_execute", listen)
    try:
        for _ in range(3):
            f.ranges("lookout_target_up")
            f.down_spans(["shop-db"])
    finally:
        event.remove(runtime.store.engine, "before_cursor_execute", listen)
    assert statements == []


def test_the_down_target_shows_as_a_down_span_at_the_end(runtime):
    spans = fetch_for(runtime).down_spans(["shop-db", "shop-cache"])
    assert [t for _a, _b, t in spans] == ["shop-db"]
    assert spans[0][1] >= runtime.seeded_at


def test_a_missing_source_is_explained_in_words(runtime):
    f = fetch_for(runtime)
    assert f.why_missing(["pool"], "lookout_pool_utilization_ratio") == "no pool target configured"
    assert f.why_missing(["postgres"], "pg_locks_count").startswith("shop-db is down: connection refused")
    assert f.why_missing(["http"], "lookout_http_cache_hits_total", "an X-Cache header") == \
        "an X-Cache header is not reported by shop-api"
    assert f.why_missing(["redis"], "redis_keyspace_hits_total") is None
    # A list panel (sessions, blocked, indexes) of a live, collected target has nothing missing:
    # its own "no blocked sessions" shows, not "None is not reported by shop-api".
    assert f.why_missing(["http"], None) is None


def test_the_hit_rate_card_reads_the_store_and_says_what_its_alert_says(runtime):
    [card] = [c for c in cards.cards(runtime, runtime.seeded_at - 3600, runtime.seeded_at)
              if c.promise.id == "cache_hit_rate"]
    assert card.value_text() == "80.0 %"
    assert card.verdict == "burning"  # 80 % hits burn a 90 % objective 2x: the ticket fires
    assert card.spark.values() and all(abs(v - HIT_RATIO) < 1e-9 for v in card.spark.values())


def test_a_promise_without_data_says_which_metric_is_missing(runtime):
    [card] = [c for c in cards.cards(runtime, runtime.seeded_at - 3600, runtime.seeded_at)
              if c.promise.id == "payment_success"]
    assert card.value_text() == "–" and card.verdict == "no data"
    assert card.detail_text() == "no samples of shop_payments_total"


def test_gaps_are_inserted_where_polls_are_missing_but_not_for_bucket_aliasing():
    pairs = [(0.0, 1.0), (16.0, 1.0), (48.0, 1.0), (200.0, 1.0)]  # one empty 16 s bucket, then an outage
    xs, ys = series.with_gaps(pairs, 16.0, interval=15.0)
    assert ys == [1.0, 1.0, 1.0, None, 1.0]
    assert xs[3] == 64_000


def test_histogram_quantile_interpolates_inside_the_bucket_like_prometheus():
    buckets = {0.1: 50.0, 0.5: 90.0, 1.0: 100.0, math.inf: 100.0}
    assert series.histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert series.histogram_quantile(0.95, buckets) == pytest.approx(0.75)
    assert series.histogram_quantile(0.95, {0.1: 0.0, math.inf: 0.0}) is None


def test_values_are_rounded_to_five_significant_digits_to_keep_refreshes_small():
    assert series.sig(0.123456789) == 0.12346
    assert series.sig(float("nan")) is None


def test_a_link_reproduces_the_view_and_a_bad_link_falls_back_to_the_default():
    now = 1_800_000_000.0
    v = parse_search(to_search("6h", "5s"), now)
    assert (v.range, v.refresh, v.end - v.start) == ("6h", "5s", 6 * 3600)
    c = parse_search("?range=custom&from=2027-01-14T10:00&to=2027-01-14T12:00&refresh=off", now)
    assert (c.range, c.span, c.interval_ms) == ("custom", 7200, None)
    assert parse_search("?range=1y&refresh=never", now) == View("1h", "15s", now - 3600, now)


def test_sample_interval_is_the_slowest_configured_poll(runtime):
    assert fetch_for(runtime).sample_interval() == 15.0


def _texts(component) -> list[str]:
    if isinstance(component, str):
        return [component]
    children = getattr(component, "children", None)
    if children is None:
        return []
    return [t for c in (children if isinstance(children, list) else [children]) for t in _texts(c)]


def test_the_firing_alerts_table_shows_the_rules_rendered_summary(runtime):
    f = fetch_for(runtime)
    # The seed's rule (the promises' own alerts may fire beside it: shop-db is down at the end).
    firing = [a for a in f.alerts() if a["state"] == "firing" and a["rule"] == "CacheHitRateLow"]
    assert len(firing) == 1
    assert SUMMARY in _texts(alert_list(firing, f.view.end))


def test_a_flapping_alert_is_listed_as_firing_and_pending_is_not():
    import json

    from plotly.io.json import to_json_plotly

    from dashboards.pages.overview import alert_list

    alerts = [{"state": "flapping", "severity": "critical", "rule": "cache_hit_ratio",
               "labels": {"target": "shop-cache"}, "firing_since": None, "value": 0.7},
              {"state": "pending", "severity": "warning", "rule": "pool_waiting_clients",
               "labels": {"target": "shop-pool"}, "firing_since": None, "value": 3}]
    shown = json.dumps(json.loads(to_json_plotly(alert_list(alerts, 1000.0))), ensure_ascii=False)
    assert "cache_hit_ratio" in shown and "critical · flapping" in shown
    assert "pool_waiting_clients" not in shown


def test_a_family_polled_every_minute_is_one_line_in_small_buckets_with_its_outage_a_gap():
    # The sizes family: every ~60 s (45-75 s with the 15 s poll's slack), shown in 3 s buckets.
    ts = [0.0, 16.0, 60.0, 105.0, 180.0, 240.0, 300.0, 1200.0, 1260.0, 1320.0]  # down 300 s -> 1200 s
    xs, ys = series.with_gaps([(t, 1.0) for t in ts], 3.0, interval=15.0)
    assert ys.count(None) == 1 and ys.index(None) == 7  # only the outage breaks the line
    assert xs[7] == 303_000


def test_the_top_statement_lists_say_what_lookout_s_own_statements_cost():
    from types import SimpleNamespace

    from dashboards.pages import latency
    top = [{"datname": "shop", "calls": 10, "total_seconds": 2.0, "mean_seconds": 0.2, "query": "SELECT 1"}]
    docs = [SimpleNamespace(target="shop-db", body={"available": True, "top": top,
                                                    "lookout": {"calls": 1234, "total_seconds": 0.5}})]
    fetch = SimpleNamespace(documents=lambda key: docs if key == "pg_stat_statements" else [])
    by_total, by_mean = (str(div) for div in latency.statements(fetch))
    for text in (by_total, by_mean):
        assert "SELECT 1" in text and "Lookout's own statements: shop-db: 1,234 calls, 500 ms in all" in text
    docs[0].body["lookout"] = None  # a server without them (or an older Lookout's document): no line
    assert "Lookout's own" not in str(latency.statements(fetch)[0])


def test_a_duration_per_state_is_the_longest_of_the_databases_not_their_sum():
    # The oldest transaction of two databases in "active" is the older one: 40 s, not 40 + 5.
    from store.types import Bucket, SeriesInfo, SeriesRange

    def rng(i: int, datname: str, v: float) -> SeriesRange:
        info = SeriesInfo(i, "pg_stat_activity_max_tx_duration", {"datname": datname, "state": "active"}, "gauge", "")
        return SeriesRange(info, [Bucket(60.0, v, v, v, v, 1)])

    ranges = [rng(1, "shop", 40.0), rng(2, "postgres", 5.0)]
    assert series.group_sum(ranges, "state", "max", combine="max") == {"active": {60.0: 40.0}}
    assert series.group_sum(ranges, "state", "max") == {"active": {60.0: 45.0}}  # counts are summed
