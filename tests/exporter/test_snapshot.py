from __future__ import annotations

import math
import re
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_openmetrics
from prometheus_client.parser import text_string_to_metric_families as parse_text

import exporter.exposition as snapshot_module
from core.samples import Sample
from exporter.snapshot import DROPPED_METRIC, Snapshot, format_value

from .conftest import target_samples

TRICKY_LABEL = 'back\\slash "quoted"\nnew line ünïcode'
TRICKY_HELP = 'Help with \\ backslash, "quotes" and a\nnewline.'
VALUES = {
    "nan": math.nan, "inf": math.inf, "ninf": -math.inf, "zero": 0.0, "int": 3.0,
    "big": 1e20, "tiny": 5e-324, "third": 1 / 3, "neg": -2.5, "large_int": 2.0**53,
}


def tricky_samples(target: str = "t") -> list[Sample]:
    out = [Sample("lookout_value", v, {"target": target, "case": k}, help="Values.") for k, v in VALUES.items()]
    out.append(Sample("lookout_escaped", 1.0, {"target": target, "text": TRICKY_LABEL}, help=TRICKY_HELP))
    out.append(Sample("lookout_events_total", 12.0, {"target": target}, "counter", help="Events."))
    out.append(Sample("pg_stat_database_xact_commit", 9.0, {"target": target}, "counter", help="Commits."))
    return out


def series(families) -> dict[tuple[str, frozenset], float]:
    return {(s.name, frozenset(s.labels.items())): s.value for f in families for s in f.samples}


def same_value(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def text(snap: Snapshot) -> str:
    return snap.body(False).decode()


def openmetrics(snap: Snapshot) -> str:
    return snap.body(True).decode()


def headers(body: str, kind: str) -> list[str]:
    return [line.split(" ")[2] for line in body.splitlines() if line.startswith(f"# {kind} ")]


@pytest.mark.parametrize("parse, render", [(parse_text, text), (parse_openmetrics, openmetrics)],
                         ids=["text-0.0.4", "openmetrics-1.0.0"])
def test_values_labels_and_help_round_trip_exactly(parse, render):
    snap = Snapshot(process=False)
    snap.update("t", tricky_samples())

    families = {f.name: f for f in parse(render(snap))}
    got = series(families.values())

    for case, value in VALUES.items():
        assert same_value(got[("lookout_value", frozenset({("target", "t"), ("case", case)}))], value), case
    assert got[("lookout_escaped", frozenset({("target", "t"), ("text", TRICKY_LABEL)}))] == 1.0
    assert families["lookout_escaped"].documentation == TRICKY_HELP
    assert got[("lookout_events_total", frozenset({("target", "t")}))] == 12.0
    # prometheus_client's text parser renames a counter's samples to ..._total; the line itself keeps the name.
    assert 'pg_stat_database_xact_commit{target="t"} 9\n' in render(snap)
    assert families["pg_stat_database_xact_commit"].type in ("counter", "unknown")


def test_each_family_has_one_help_and_type_across_targets(snapshot):
    snapshot.update("db3", target_samples("db3"))

    for body in (text(snapshot), openmetrics(snapshot)):
        for kind in ("HELP", "TYPE"):
            names = headers(body, kind)
            assert len(names) == len(set(names)) == 5  # 4 target families + the exporter's own
        assert len(re.findall(r"^pg_up\{", body, re.M)) == 3


def test_families_are_contiguous_and_sorted_by_name(snapshot):
    for body in (text(snapshot), openmetrics(snapshot)):
        names = headers(body, "TYPE")
        assert names == sorted(names)
        family_of_lines = [line.split("{")[0].split(" ")[0] for line in body.splitlines()
                           if line and not line.startswith("#")]
        runs = [n for i, n in enumerate(family_of_lines) if i == 0 or family_of_lines[i - 1] != n]
        assert len(runs) == len(set(runs))


def test_targets_are_ordered_within_a_family(snapshot):
    snapshot.update("a0", target_samples("a0"))

    ups = re.findall(r'^pg_up\{target="(\w+)"\}', text(snapshot), re.M)
    assert ups == ["a0", "db1", "db2"]


def test_updating_one_target_replaces_only_its_series(snapshot):
    snapshot.update("db1", [Sample("pg_up", 0.0, {"target": "db1"}, help="Whether the last scrape "
                                   "of PostgreSQL was able to connect.")])

    got = series(parse_text(text(snapshot)))
    assert got[("pg_up", frozenset({("target", "db1")}))] == 0.0
    assert not [k for k in got if ("target", "db1") in k[1] and k[0] != "pg_up"]
    assert got[("redis_keyspace_hits_total", frozenset({("target", "db2")}))] == 42.0
    assert snapshot.series_count() == 1 + 5


def test_remove_drops_a_targets_series_and_empty_families(snapshot):
    snapshot.update("db2", [Sample("only_db2", 1.0, {"target": "db2"}, help="x")])
    snapshot.remove("db2")
    snapshot.remove("never-seen")

    body = text(snapshot)
    assert 'target="db2"' not in body
    assert "only_db2" not in body
    assert 'pg_up{target="db1"} 1' in body
    assert snapshot.series_count() == 5


def test_updating_one_target_does_not_reformat_the_others(monkeypatch):
    snap = Snapshot(process=False)
    for i in range(20):
        snap.update(f"t{i}", target_samples(f"t{i}"))
    calls = []
    real = snapshot_module.format_value
    monkeypatch.setattr(snapshot_module, "format_value", lambda v: calls.append(v) or real(v))

    snap.update("t3", target_samples("t3", hits=1.0))

    assert len(calls) == len(target_samples("t3"))
    assert 'pg_stat_database_blks_hit{target="t3",datid="5",datname="shop"} 1\n' in text(snap)


def test_counter_named_total_is_a_counter_in_both_formats():
    snap = Snapshot(process=False)
    snap.update("r", [Sample("redis_keyspace_hits_total", 5.0, {"target": "r"}, "counter", help="Hits.")])

    assert "# TYPE redis_keyspace_hits_total counter\nredis_keyspace_hits_total{" in text(snap)
    assert "# TYPE redis_keyspace_hits counter\nredis_keyspace_hits_total{" in openmetrics(snap)
    om = {f.name: f for f in parse_openmetrics(openmetrics(snap))}
    assert om["redis_keyspace_hits"].type == "counter"


def test_counter_without_total_keeps_its_name_and_is_a_counter():
    # postgres_exporter's names: dashboards query pg_stat_database_blks_hit, typed counter.
    snap = Snapshot(process=False)
    snap.update("p", [Sample("pg_stat_database_blks_hit", 5.0, {"target": "p"}, "counter", help="Hits.")])

    assert "# TYPE pg_stat_database_blks_hit counter\npg_stat_database_blks_hit{" in text(snap)
    # client_golang's OpenMetrics: the name stays, the type says unknown (a counter needs _total there).
    assert "# TYPE pg_stat_database_blks_hit unknown\npg_stat_database_blks_hit{" in openmetrics(snap)
    assert {f.name: f.type for f in parse_text(text(snap))}["pg_stat_database_blks_hit"] == "counter"


def test_gauges_are_gauges_even_when_named_total():
    # redis_exporter's redis_migrate_cached_sockets_total is a gauge.
    snap = Snapshot(process=False)
    snap.update("p", [Sample("pg_up", 1.0, help="Up."), Sample("odd_gauge_total", 1.0, help="Odd.")])

    assert "# TYPE pg_up gauge\n" in text(snap)
    assert "# TYPE odd_gauge_total gauge\nodd_gauge_total 1\n" in text(snap)
    assert "# TYPE odd_gauge_total gauge\nodd_gauge_total 1\n" in openmetrics(snap)
    list(parse_openmetrics(openmetrics(snap)))


def summary_samples(target: str, cmd: str = "get", quantiles: tuple[str, ...] = ("0.5", "0.99")) -> list[Sample]:
    t = {"target": target, "cmd": cmd}
    out = [Sample("lookout_latency_seconds", 0.001 * (i + 1), {**t, "quantile": q}, "summary", help="Latency.")
           for i, q in enumerate(quantiles)]
    return out + [Sample("lookout_latency_seconds_sum", 1.5, t, "summary", help="Latency."),
                  Sample("lookout_latency_seconds_count", 300.0, t, "summary", help="Latency.")]


@pytest.mark.parametrize("parse, render", [(parse_text, text), (parse_openmetrics, openmetrics)],
                         ids=["text-0.0.4", "openmetrics-1.0.0"])
def test_summary_samples_make_one_summary_family(parse, render):
    snap = Snapshot(process=False)
    # Interleaved on purpose: each label set's lines must still come out together.
    a, b = summary_samples("t", "get"), summary_samples("t", "set")
    snap.update("t", [a[0], b[0], a[2], b[1], b[2], b[3], a[1], a[3]])

    families = {f.name: f for f in parse(render(snap))}
    fam = families["lookout_latency_seconds"]
    assert fam.type == "summary"
    got = {(s.name, s.labels.get("cmd"), s.labels.get("quantile")): s.value for s in fam.samples}
    assert got[("lookout_latency_seconds", "get", "0.99")] == 0.002
    assert got[("lookout_latency_seconds_sum", "set", None)] == 1.5
    assert got[("lookout_latency_seconds_count", "get", None)] == 300
    assert len(got) == 8
    assert "lookout_latency_seconds_sum" not in families


def test_summary_lines_of_a_label_set_are_adjacent_quantiles_first():
    snap = Snapshot(process=False)
    a, b = summary_samples("t", "get"), summary_samples("t", "set")
    snap.update("t", [a[3], b[0], a[0], b[3], a[2], b[2], b[1], a[1]])

    lines = [ln for ln in text(snap).splitlines() if ln.startswith("lookout_latency")]
    cmds = [re.search(r'cmd="(\w+)"', ln).group(1) for ln in lines]
    assert cmds == ["get"] * 4 + ["set"] * 4
    assert [ln.split("{")[0] for ln in lines[:4]] == ["lookout_latency_seconds"] * 2 + [
        "lookout_latency_seconds_sum", "lookout_latency_seconds_count"]


def test_redis_exporter_percent_quantiles_pass_unchanged_in_text():
    # redis_exporter labels its latency summary 50 / 99 / 99.9 and dashboards query those.
    snap = Snapshot(process=False)
    snap.update("r", summary_samples("r", quantiles=("50", "99", "99.9")))

    assert 'lookout_latency_seconds{target="r",cmd="get",quantile="99.9"} 0.003\n' in text(snap)
    assert {f.name: f.type for f in parse_text(text(snap))}["lookout_latency_seconds"] == "summary"


@pytest.mark.parametrize("bad", [
    Sample("s", 1.0, {"quantile": "high"}, "summary", help="S."),
    Sample("s", -1.0, {"quantile": "0.5"}, "summary", help="S."),
    Sample("s_count", 1.5, {}, "summary", help="S."),
    Sample("s_sum", -1.0, {}, "summary", help="S."),
], ids=["quantile-not-a-number", "negative-quantile-value", "fractional-count", "negative-sum"])
def test_summary_samples_openmetrics_would_reject_are_dropped(bad):
    snap = Snapshot(process=False)
    snap.update("t", [bad, Sample("s_sum", 1.0, {"x": "1"}, "summary", help="S.")])

    assert dropped(snap)["invalid_value"] == 1
    list(parse_openmetrics(openmetrics(snap)))


def test_a_summary_sample_of_no_summary_shape_is_dropped():
    snap = Snapshot(process=False)
    snap.update("t", [Sample("s", 1.0, {}, "summary", help="S.")])

    assert dropped(snap)["invalid_name"] == 1


def test_a_gauge_cannot_take_a_summary_sample_name():
    snap = Snapshot(process=False)
    snap.update("a", summary_samples("a"))
    snap.update("b", [Sample("lookout_latency_seconds_count", 1.0, help="A gauge.")])

    list(parse_openmetrics(openmetrics(snap)))
    assert dropped(snap)["conflict"] == 1


def test_no_created_series_and_no_timestamps(snapshot):
    assert "_created" not in text(snapshot) + openmetrics(snapshot)
    for parse, body in ((parse_text, text(snapshot)), (parse_openmetrics, openmetrics(snapshot))):
        samples = [s for f in parse(body) for s in f.samples]
        assert samples and all(s.timestamp is None for s in samples)


def test_openmetrics_ends_with_eof_and_text_does_not(snapshot):
    assert openmetrics(snapshot).endswith("\n# EOF\n")
    assert "# EOF" not in text(snapshot)


def dropped(snap: Snapshot) -> dict[str, float]:
    fams = {f.name: f for f in parse_text(text(snap))}
    return {s.labels["reason"]: s.value for s in fams[DROPPED_METRIC.removesuffix("_total")].samples}


def test_invalid_metric_and_label_names_are_dropped_and_counted():
    snap = Snapshot(process=False)
    snap.update("t", [
        Sample("good", 1.0, {"target": "t"}, help="Good."),
        Sample("bad-name", 1.0, help="Dash."),
        Sample("9starts_with_digit", 1.0, help="Digit."),
        Sample("recording:rule", 1.0, help="Colons are for recording rules."),
        Sample("good_labels_only", 1.0, {"bad-label": "x"}, help="Bad label."),
        Sample("good_labels_only", 1.0, {"__reserved": "x"}, help="Bad label."),
        Sample(DROPPED_METRIC, 1.0, kind="counter", help="Ours."),
    ])

    body = text(snap)
    assert "bad-name" not in body and "9starts" not in body and "recording:rule" not in body
    assert "good_labels_only" not in body
    assert dropped(snap)["invalid_name"] == 6
    assert snap.series_count() == 1
    assert snap.dropped()["invalid_name"] == 6


def test_drops_accumulate_across_collections():
    snap = Snapshot(process=False)
    for _ in range(3):
        snap.update("t", [Sample("bad-name", 1.0)])

    assert dropped(snap)["invalid_name"] == 3


def test_conflicting_family_definitions_keep_the_first_and_drop_the_rest():
    snap = Snapshot(process=False)
    snap.update("a", [Sample("shared", 1.0, {"target": "a"}, help="First.")])
    snap.update("b", [Sample("shared", 2.0, {"target": "b"}, help="Second.")])
    snap.update("c", [Sample("shared", 3.0, {"target": "c"}, "counter", help="First.")])

    got = series(parse_text(text(snap)))
    assert got == {**{k: v for k, v in got.items() if k[0] != "shared"},
                   ("shared", frozenset({("target", "a")})): 1.0}
    assert dropped(snap)["conflict"] == 2


def test_a_family_can_change_once_its_only_user_changes_it():
    snap = Snapshot(process=False)
    snap.update("a", [Sample("m", 1.0, help="Old.")])
    snap.update("a", [Sample("m", 1.0, help="New.")])

    assert "# HELP m New.\n" in text(snap)
    assert dropped(snap)["conflict"] == 0


def test_counter_and_gauge_sharing_an_openmetrics_name_do_not_both_appear():
    snap = Snapshot(process=False)
    snap.update("a", [Sample("x_total", 1.0, kind="counter", help="Counter.")])
    snap.update("b", [Sample("x", 1.0, help="Gauge."), Sample("x_total", 2.0, help="Gauge.")])

    list(parse_openmetrics(openmetrics(snap)))  # raises on clashing names
    assert dropped(snap)["conflict"] == 2


def test_negative_counters_and_non_numbers_are_dropped():
    snap = Snapshot(process=False)
    snap.update("a", [Sample("c_total", -1.0, kind="counter", help="C."),
                      Sample("g", "not a number", help="G."),  # type: ignore[arg-type]
                      Sample("g", -1.0, help="G.")])

    assert dropped(snap)["invalid_value"] == 2
    assert "g -1\n" in text(snap)


def test_duplicate_series_in_a_batch_keep_the_first():
    snap = Snapshot(process=False)
    snap.update("a", [Sample("g", 1.0, {"a": "1", "b": "2"}, help="G."),
                      Sample("g", 2.0, {"b": "2", "a": "1"}, help="G.")])

    assert 'g{a="1",b="2"} 1\n' in text(snap)
    assert dropped(snap)["duplicate"] == 1
    assert snap.series_count() == 1


def test_missing_help_gets_a_placeholder_so_the_lint_passes():
    snap = Snapshot(process=False)
    snap.update("a", [Sample("g", 1.0)])

    assert re.search(r"^# HELP g \S", text(snap), re.M)


@given(st.floats(allow_nan=False))
def test_format_value_round_trips_every_float(value):
    assert float(format_value(value)) == value


def test_format_value_prints_integers_compactly():
    assert [format_value(v) for v in (0.0, 1.0, -7.0, 123456789.0, 0.5, 1e20)] == \
        ["0", "1", "-7", "123456789", "0.5", "1e+20"]


def test_concurrent_updates_and_scrapes_always_see_valid_bodies():
    snap = Snapshot(process=False)
    errors: list[BaseException] = []
    stop = threading.Event()

    def collect(target: str) -> None:
        for i in range(200):
            snap.update(target, target_samples(target, hits=float(i)))

    def scrape() -> None:
        try:
            while not stop.is_set():
                list(parse_openmetrics(openmetrics(snap)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    reader = threading.Thread(target=scrape)
    reader.start()
    writers = [threading.Thread(target=collect, args=(f"t{i}",)) for i in range(4)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    stop.set()
    reader.join()

    assert errors == []
    assert snap.series_count() == 4 * 5
    assert 'target="t2",datid="5",datname="shop"} 199\n' in text(snap)


# -- the process families ----------------------------------------------------------------

def test_the_process_families_of_this_process_are_in_both_formats():
    snap = Snapshot()
    snap.update("db1", target_samples("db1"))

    for parse, body in ((parse_text, snap.body(False)), (parse_openmetrics, snap.body(True))):
        fams = {f.name: f for f in parse(body.decode())}
        assert fams["process_cpu_seconds"].type == "counter"
        for gauge in ("process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds",
                      "process_max_fds", "process_start_time_seconds"):
            assert fams[gauge].type == "gauge", gauge
        assert fams["process_resident_memory_bytes"].samples[0].value > 0
    assert snap.body(True).endswith(b"\n# EOF\n") and snap.body(True).count(b"# EOF") == 1


def test_the_process_families_are_read_at_each_scrape(tmp_path):
    # A fake /proc (ProcessCollector reads files, so a test can feed it) whose fd count changes.
    from prometheus_client.process_collector import ProcessCollector

    from exporter.process import ProcessBlock

    (tmp_path / "stat").write_text("btime 1000\n")
    pid = tmp_path / "123"
    (pid / "fd").mkdir(parents=True)
    (pid / "stat").write_text("123 (lookout) S" + " 0" * 10 + " 100 200" + " 0" * 6 + " 500 4096 10" + " 0" * 20)
    (pid / "limits").write_text("Max open files            1024                 1024                 files\n")
    snap = Snapshot(process=ProcessBlock(ProcessCollector(pid=lambda: 123, proc=str(tmp_path), registry=None)))

    before = snap.body(False)
    (pid / "fd" / "0").touch()
    after = snap.body(False)

    assert b"process_open_fds 0\n" in before and b"process_open_fds 1\n" in after
    assert b"process_cpu_seconds_total 3\n" in after  # (100 + 200) ticks at 100 Hz
    assert snap.version == 1  # no update happened: only the process part changed


def test_a_target_cannot_take_a_process_family_name():
    snap = Snapshot()
    snap.update("app", [Sample("process_open_fds", 3.0, {"target": "app"}, help="Someone else's fds."),
                        Sample("process_cpu_seconds_total", 1.0, {"target": "app"}, "counter", help="CPU.")])

    assert 'target="app"' not in snap.body(False).decode()
    assert dropped(snap)["conflict"] == 2
    list(parse_openmetrics(snap.body(True).decode()))


@pytest.mark.parametrize("om", [False, True], ids=["text", "openmetrics"])
def test_a_gzip_body_with_process_families_is_one_gzip_member_of_the_whole_body(om):
    import gzip
    import zlib

    snap = Snapshot()
    snap.update("db1", target_samples("db1"))

    first, second = snap.body(om, gzipped=True), snap.body(om, gzipped=True)

    for data in (first, second):
        d = zlib.decompressobj(31)
        body = d.decompress(data)
        assert d.eof and d.unused_data == b""  # one member, nothing after it
        assert body.startswith(b"# HELP lookout_collect_duration_seconds")
        assert body.endswith(b"# EOF\n" if om else b"\n")
        assert b"pg_up{target=\"db1\"} 1\n" in body and b"process_open_fds " in body
    assert gzip.decompress(first)[:200] == snap.body(om)[:200]


def test_a_kind_the_exporter_does_not_know_is_exposed_untyped():
    snap = Snapshot(process=False)
    snap.update("t", [Sample("app_latency_bucket", 3.0, {"le": "0.1"}, "untyped", help="Re-exported.")])  # type: ignore[arg-type]

    assert "# TYPE app_latency_bucket untyped\n" in text(snap)
    assert "# TYPE app_latency_bucket unknown\n" in openmetrics(snap)
    list(parse_openmetrics(openmetrics(snap)))


def histogram_samples(target: str, route: str) -> list[Sample]:
    lab = {"target": target, "route": route}
    h = "Request duration, re-exported from the application."
    return [Sample("app_seconds_bucket", 3.0, {**lab, "le": "0.1"}, "histogram", h),
            Sample("app_seconds_bucket", 5.0, {**lab, "le": "+Inf"}, "histogram", h),
            Sample("app_seconds_sum", 0.9, lab, "histogram", h),
            Sample("app_seconds_count", 5.0, lab, "histogram", h)]


@pytest.mark.parametrize("parse, render", [(parse_text, text), (parse_openmetrics, openmetrics)],
                         ids=["text-0.0.4", "openmetrics-1.0.0"])
def test_an_applications_histogram_is_re_exposed_as_one_histogram_family(parse, render):
    # An application's request histogram re-exported by an http target: typed counter parts
    # failed promtool ("_bucket" on a non-histogram); as a histogram they pass both parsers.
    snap = Snapshot(process=False)
    a, b = histogram_samples("t", "/a"), histogram_samples("t", "/b")
    snap.update("t", [a[2], b[0], a[0], b[3], a[3], b[1], a[1], b[2]])

    fam = {f.name: f for f in parse(render(snap))}["app_seconds"]
    assert fam.type == "histogram"
    got = {(s.name, s.labels.get("route"), s.labels.get("le")): s.value for s in fam.samples}
    assert got[("app_seconds_bucket", "/a", "+Inf")] == 5.0 and got[("app_seconds_sum", "/b", None)] == 0.9
    assert len(got) == 8


def test_a_histogram_bucket_without_le_or_a_fractional_count_is_dropped():
    snap = Snapshot(process=False)
    snap.update("t", [Sample("h_bucket", 1.0, {}, "histogram", "H."),
                      Sample("h_bucket", 1.5, {"le": "1"}, "histogram", "H.")])
    assert "h_bucket" not in text(snap)
