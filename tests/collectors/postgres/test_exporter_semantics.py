"""postgres_exporter's semantics in the pure row mappers: the branches an idle test server never
reaches (a replica, a running VACUUM, a failed family) and the conversions of its settings."""
from __future__ import annotations

from collectors.postgres import server, sessions, tables
from collectors.postgres.compat import exporter_health
from collectors.postgres.rows import Ctx
from core.samples import Batch, Sample

CTX = Ctx(version=150000, now=1_000.0)


def named(result, name: str) -> list[Sample]:
    return [s for s in result.samples if s.name == name]


def setting(name: str, value: str, unit: str = "", vartype: str = "integer", **kw) -> dict:
    return {"name": name, "setting": value, "reset_val": value, "source": "default", "unit": unit,
            "vartype": vartype, **kw}


def test_a_setting_lookout_sets_on_its_session_reports_the_server_s_value():
    rows = [[{"in_recovery": False}], [
        setting("statement_timeout", "2000", "ms", reset_val="0", source="session"),
        setting("default_transaction_read_only", "on", vartype="bool", reset_val="off", source="session"),
        setting("transaction_read_only", "on", vartype="bool", reset_val="off", source="override"),
        setting("work_mem", "8192", "kB", reset_val="4096", source="configuration file"),
    ]]
    got = {s.name: s.value for s in server.settings(rows, CTX).samples}
    assert got["pg_settings_statement_timeout_seconds"] == 0.0
    assert got["pg_settings_default_transaction_read_only"] == got["pg_settings_transaction_read_only"] == 0.0
    assert got["pg_settings_work_mem_bytes"] == 8192 * 1024  # not Lookout's: the server's own setting


def test_a_standby_s_transactions_are_read_only_whatever_the_default():
    rows = [[{"in_recovery": True}], [setting("transaction_read_only", "on", vartype="bool", reset_val="off")]]
    assert named(server.settings(rows, CTX), "pg_settings_transaction_read_only")[0].value == 1.0


def test_settings_convert_every_unit_as_the_exporter_and_keep_minus_one():
    assert server.setting_value(setting("log_rotation_age", "1", "d")) == (86400.0,
                                                                        "pg_settings_log_rotation_age_seconds")
    assert server.setting_value(setting("wal_segment_size", "1", "16MB")) == (16 * 2.0 ** 20,
                                                                          "pg_settings_wal_segment_size_bytes")
    assert server.setting_value(setting("autovacuum_work_mem", "-1", "kB")) == (-1.0,
                                                                            "pg_settings_autovacuum_work_mem_bytes")
    assert server.setting_value(setting("seq_page_cost", "1", vartype="real")) == (1.0, "pg_settings_seq_page_cost")
    assert server.setting_value(setting("odd", "3", "furlong"))[0] is None  # the exporter skips it too


def test_the_short_version_is_the_exporter_s_semver():
    assert server.short_version("15.20 (Debian 15.20-0+deb12u1)") == "15.20.0"
    assert server.short_version("18beta1") == "18.0.0"


def test_a_slot_is_served_under_the_current_and_the_older_names():
    head = [{"in_recovery": False, "lag": 0, "old_lag": 0, "last_replay": 0}]
    slot = {"slot_name": "replica_a", "slot_type": "physical", "plugin": "", "database": "", "active": True,
            "retained_bytes": 4096.0, "current_wal_lsn": 9e6, "confirmed_flush_lsn": 0.0,
            "wal_status": "reserved", "safe_wal_size": 1e9}
    r = server.replication([head, [], [slot]], CTX)
    assert named(r, "pg_replication_slots_active")[0].labels == {"slot_name": "replica_a", "database": ""}
    for prefix in ("pg_replication_slots_", "pg_replication_slot_"):
        assert named(r, prefix + "slot_is_active")[0].labels == {"slot_name": "replica_a", "slot_type": "physical"}
        assert named(r, prefix + "wal_status")[0].labels["wal_status"] == "reserved"
    assert named(r, "pg_replication_lag")[0].value == 0.0


def test_a_replica_is_labelled_with_its_slot_as_the_exporter():
    head = [{"in_recovery": False, "lag": 0, "old_lag": 0, "last_replay": 0}]
    rep = {"application_name": "walreceiver", "client_addr": "10.0.0.2", "state": "streaming",
           "sync_state": "async", "slot_name": "replica_a", "current_wal_lsn_bytes": 9e6, "replay_lag_bytes": 512.0,
           "replay_lag_seconds": None, "write_lag_seconds": None, "flush_lag_seconds": None}
    r = server.replication([head, [rep], []], CTX)
    diff = named(r, "pg_stat_replication_pg_wal_lsn_diff")[0]
    assert diff.value == 512.0 and set(diff.labels) == {"application_name", "client_addr", "state", "slot_name"}


def test_a_running_vacuum_reports_its_phase_as_the_exporter():
    row = {"datname": "shop", "relname": "orders", "phase": 2, "heap_blks_total": 100, "heap_blks_scanned": 100,
           "heap_blks_vacuumed": 40, "index_vacuum_count": 1, "max_dead_tuples": 291, "num_dead_tuples": 12}
    got = sessions.vacuum_progress([row])
    phases = {s.labels["phase"]: s.value for s in got if s.name == "pg_stat_progress_vacuum_phase"}
    assert phases["vacuuming indexes"] == 1.0 and sum(phases.values()) == 1.0 and len(phases) == 7
    assert [s.value for s in got if s.name == "pg_stat_progress_vacuum_heap_blks_vacuumed"] == [40.0]


def test_a_never_vacuumed_table_reports_the_epoch_as_the_exporter():
    row = {c: 0 for c, *_ in tables.TABLES} | {"schemaname": "public", "relname": "orders", "last_vacuum": None,
                                               "last_autovacuum": None, "last_analyze": None, "last_autoanalyze": None}
    r = tables.tables([[row]], Ctx(version=150000, now=1_000.0, datname="shop"))
    assert [s.value for s in named(r, "pg_stat_user_tables_last_autovacuum")] == [0.0]
    assert not named(r, "lookout_pg_table_vacuum_age_seconds")  # never vacuumed: no age


def test_the_shared_row_and_the_templates_of_pg_stat_database_are_served():
    rows = [[{"datid": 0, "datname": None, "numbackends": 0, "xact_commit": 0},
             {"datid": 4, "datname": "template0", "numbackends": 0, "xact_commit": 0}],
            [{"datid": 4, "datname": "template0", "confl_lock": 0}]]
    r = server.database(rows, Ctx(version=150000, now=0, watched=["shop"], options={"server": "db:5432"}))
    assert {s.labels["datname"] for s in named(r, "pg_stat_database_xact_commit")} == {"", "template0"}
    assert named(r, "pg_stat_database_conflicts_confl_lock")[0].labels["server"] == "db:5432"


def test_a_failed_family_is_a_scrape_error_and_a_failed_collector():
    batch = Batch(target="pg", kind="postgres", started_at=0, duration=0.02, samples=[
        Sample("lookout_pg_family_up", 1.0, {"family": "locks", "datname": ""}),
        Sample("lookout_pg_family_up", 0.0, {"family": "tables", "datname": "shop"})])
    got = {(s.name, s.labels.get("collector")): s.value for s in exporter_health(batch, 7)}
    assert got[("pg_exporter_last_scrape_error", None)] == 1.0
    assert got[("pg_exporter_scrapes_total", None)] == 7.0
    assert got[("pg_scrape_collector_success", "locks")] == 1.0
    assert got[("pg_scrape_collector_success", "stat_user_tables")] == 0.0


def test_an_unreachable_server_fails_every_collector():
    batch = Batch(target="pg", kind="postgres", started_at=0, up=False, error="refused")
    got = [s for s in exporter_health(batch, 1) if s.name == "pg_scrape_collector_success"]
    assert got and all(s.value == 0.0 for s in got)
