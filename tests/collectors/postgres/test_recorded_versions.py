"""Version differences through the pure row mappers, fed by recorded result sets."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from collectors.postgres import server, sql, statements
from collectors.postgres.rows import Ctx
from collectors.postgres.sessions import blocking_chains

FIXTURES = Path(__file__).parents[2] / "fixtures" / "postgres"


def load(name: str):
    return json.loads((FIXTURES / name).read_text())


def by_name(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for s in result.samples:
        out.setdefault(s.name, []).append(s)
    return out


@pytest.mark.parametrize("fixture", ["statements_pg12.json", "statements_pg13.json", "statements_pg18.json"])
def test_every_pg_stat_statements_column_set_maps_to_the_same_series(fixture):
    rows = load(fixture)
    got = by_name(statements.statements(rows, Ctx(version=0, now=0)))
    first = rows[1][0]
    total_ms = first.get("total_exec_time", first.get("total_time"))
    secs = [s for s in got["pg_stat_statements_seconds_total"] if s.labels["queryid"] == first["queryid"]]
    assert secs[0].value == pytest.approx(total_ms / 1000)
    assert secs[0].labels == {"user": "postgres", "datname": "postgres", "queryid": first["queryid"]}
    assert len(got["pg_stat_statements_block_read_seconds_total"]) == len(rows[1])
    assert got["lookout_pg_stat_statements_available"][0].value == 1.0


def test_statements_sql_names_the_columns_of_each_version():
    assert "total_time" in sql.statements(120000, 5)[0] and "total_exec_time" not in sql.statements(120000, 5)[0]
    assert "total_exec_time" in sql.statements(130000, 5)[0] and "blk_read_time" in sql.statements(160000, 5)[0]
    assert "shared_blk_read_time" in sql.statements(170000, 5)[0]


def test_a_server_without_the_preload_reports_unavailable_with_the_reason():
    r = statements.statements(load("statements_unavailable_pg15.json"), Ctx(version=150000, now=0))
    assert by_name(r)["lookout_pg_stat_statements_available"][0].value == 0.0
    assert "shared_preload_libraries" in r.documents["pg_stat_statements"]["reason"]


def test_the_preload_without_the_extension_says_create_extension():
    probe = [[{"extversion": None, "preload": "auto_explain, pg_stat_statements", "datname": "shop"}]]
    reason = statements.statements(probe, Ctx(version=150000, now=0)).documents["pg_stat_statements"]["reason"]
    assert "CREATE EXTENSION" in reason and "'shop'" in reason


def test_pre_17_bgwriter_rows_give_the_checkpoint_counters_under_pg_stat_bgwriter():
    got = by_name(server.bgwriter(load("bgwriter_pg15.json"), Ctx(version=150000, now=0)))
    assert "pg_stat_bgwriter_checkpoints_timed_total" in got
    assert "pg_stat_bgwriter_buffers_backend_total" in got
    assert not any(n.startswith("pg_stat_checkpointer_") for n in got)


def test_pg17_plus_rows_give_checkpointer_counters_and_the_remaining_bgwriter_ones():
    rows = load("bgwriter_pg18.json")
    assert len(rows) == 2 and sql.bgwriter(170000)[1] == "SELECT * FROM pg_stat_checkpointer"
    got = by_name(server.bgwriter(rows, Ctx(version=180000, now=0)))
    assert got["pg_stat_checkpointer_num_requested_total"][0].value >= 1
    assert "pg_stat_bgwriter_buffers_alloc_total" in got
    assert "pg_stat_bgwriter_checkpoints_timed_total" not in got


def test_the_database_cache_hit_ratio_uses_deltas_and_skips_a_stats_reset():
    ctx = Ctx(version=150000, now=0, watched=["shop"])
    row = {"datid": 5, "datname": "shop", "blks_hit": 900, "blks_read": 100}
    assert "lookout_pg_database_cache_hit_ratio" not in by_name(server.database([[row]], ctx))
    later = {**row, "blks_hit": 1890, "blks_read": 110}
    ratio = by_name(server.database([[later]], ctx))["lookout_pg_database_cache_hit_ratio"][0]
    assert ratio.value == pytest.approx(0.99)
    reset = {**row, "blks_hit": 5, "blks_read": 1}
    assert "lookout_pg_database_cache_hit_ratio" not in by_name(server.database([[reset]], ctx))


def test_blocking_chains_follow_blockers_to_the_root():
    sessions = [{"pid": 1, "blocked_by": None}, {"pid": 2, "blocked_by": [1]}, {"pid": 3, "blocked_by": [2]}]
    doc = blocking_chains(sessions)
    assert [b["chain"] for b in doc["blocked"]] == [[2, 1], [3, 2, 1]]
    assert doc["roots"] == [{"pid": 1, "blocked_by": None, "blocks": 2}]


def test_settings_are_converted_to_base_units_like_postgres_exporter():
    assert server._setting_value({"name": "shared_buffers", "setting": "16384", "unit": "8kB", "vartype": "integer"}) \
        == (16384 * 8192, "pg_settings_shared_buffers_bytes")
    assert server._setting_value({"name": "statement_timeout", "setting": "2000", "unit": "ms", "vartype": "integer"}) \
        == (2.0, "pg_settings_statement_timeout_seconds")
    assert server._setting_value({"name": "autovacuum", "setting": "on", "unit": None, "vartype": "bool"}) \
        == (1.0, "pg_settings_autovacuum")


def test_lookout_s_own_statement_totals_become_their_own_series():
    probe = [{"extversion": "1.11", "preload": "pg_stat_statements", "datname": "shop"}]
    own = [{"statements": 2, "calls": 40, "total_ms": 125.0}]
    got = by_name(statements.statements([probe, [], own], Ctx(version=180000, now=0)))
    assert got["lookout_pg_own_statements_calls_total"][0].value == 40.0
    assert got["lookout_pg_own_statements_seconds_total"][0].value == 0.125
    older = by_name(statements.statements([probe, []], Ctx(version=180000, now=0)))  # a batch without them
    assert "lookout_pg_own_statements_calls_total" not in older


def test_the_top_statements_sql_leaves_lookout_s_own_out_and_counts_them_apart():
    top, own = sql.statements(180000, 5)
    assert "WHERE NOT s.query LIKE 'SELECT /* lookout */%'" in top
    assert "WHERE s.query LIKE 'SELECT /* lookout */%'" in own
