"""Ask a PostgreSQL server what Lookout's ``postgres`` target needs to know: version, databases,
extensions, preloaded libraries, whether it is a replica and whether the role may read the stats."""
from __future__ import annotations

import psycopg

from collectors.postgres.connection import describe, safe_dsn
from discover import business
from discover.findings import Findings, PgBouncer, Postgres
from discover.placeholders import without_password

PART = "postgres"
ENV = "PG_PASSWORD"


def probe(dsn: str, found: Findings, timeout: float = 5.0) -> Postgres | None:
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, int(timeout)),
                               application_name="lookout-discover")
    except psycopg.Error as exc:
        found.notes.missing(PART, f"cannot connect to {safe_dsn(dsn)}: {describe(exc)}; no postgres target "
                                  "written (check host, port, user, password and pg_hba.conf, then run again)")
        return None
    with conn:
        one = conn.execute(
            "SELECT current_setting('server_version'), current_database(), current_user,"
            " current_setting('shared_preload_libraries'), pg_is_in_recovery(),"
            " (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
            "   OR pg_has_role(current_user, 'pg_monitor', 'MEMBER'),"
            " EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements')").fetchone()
        assert one is not None  # a SELECT without FROM returns one row
        version, dbname, user, preload, replica, monitor, package = one
        databases = [r[0] for r in conn.execute(
            "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname")]
        extensions: dict[str, str] = dict(
            conn.execute("SELECT extname, extversion FROM pg_extension ORDER BY extname").fetchall())
        try:
            payments, why = business.find(conn), ""
        except psycopg.Error as exc:
            payments, why = None, describe(exc)
    written, had_password = without_password(dsn, ENV)
    if had_password:
        found.env[ENV] = f"the password of PostgreSQL user {user}"
    pg = Postgres(dsn=written, version=str(version).split()[0], dbname=dbname, user=user, databases=databases,
                  preload=[p.strip() for p in str(preload).split(",") if p.strip()], extensions=extensions,
                  pgss_package=bool(package), replica=bool(replica), monitor=bool(monitor), payments=payments)
    n = found.notes
    n.found(PART, f"PostgreSQL {pg.version} at {safe_dsn(dsn)} ({'replica' if pg.replica else 'primary'}), "
                  f"databases: {', '.join(databases) or 'none'}")
    n.found(PART, "extensions in " + dbname + ": " + ", ".join(f"{k} {v}" for k, v in extensions.items()))
    if pg.pg_stat_statements:
        n.found(PART, "pg_stat_statements is loaded and installed: per-query times and the query_mean promise")
    else:
        n.missing(PART, "pg_stat_statements: " + pgss_reason(pg) + " (the lines to enable it are in the config; "
                        "until then the query_mean promise and the pg_query_mean_time rule are off)")
    if payments is not None:
        counts = ", ".join(f"{k} {v}" for k, v in payments.statuses.items()) or "no rows yet"
        n.found(PART, f"payments in table {payments.qualified}, column {payments.column} ({counts}): "
                      "a sql target counting them, the payment_success promise")
    else:
        n.missing(PART, f"no table named {', '.join(business.TABLES)} with a status column holding payment "
                        f"outcomes in database {dbname}" + (f" ({why})" if why else "")
                        + ": the payment_success promise is off (add a sql target by hand)")
    if not pg.monitor:
        n.missing(PART, f"role {user} is neither superuser nor in pg_monitor: other sessions' queries and some "
                        f"statistics are hidden (GRANT pg_monitor TO {user};)")
    return pg


def pgss_reason(pg: Postgres) -> str:
    if not pg.pgss_package:
        return "the extension is not installed on the server (the contrib package, e.g. postgresql-contrib)"
    if "pg_stat_statements" not in pg.preload:
        return "not in shared_preload_libraries"
    return f"CREATE EXTENSION was not run in database {pg.dbname}"


def enable_lines(pg: Postgres) -> list[str]:
    """The exact lines that make pg_stat_statements readable, as config comments."""
    libs = ",".join([*pg.preload, "pg_stat_statements"]) if "pg_stat_statements" not in pg.preload \
        else ",".join(pg.preload)
    out = []
    if not pg.pgss_package:
        out.append("0. install the server's contrib package (Debian/Ubuntu: postgresql-contrib)")
    if "pg_stat_statements" not in pg.preload:
        out += ["1. in postgresql.conf (or ALTER SYSTEM), then restart PostgreSQL:",
                f"     shared_preload_libraries = '{libs}'",
                f"   or: ALTER SYSTEM SET shared_preload_libraries = '{libs}';"]
    out += [f"2. in database {pg.dbname}, as a superuser:",
            "     CREATE EXTENSION IF NOT EXISTS pg_stat_statements;"]
    return out


def probe_pgbouncer(dsn: str, found: Findings, timeout: float = 5.0) -> PgBouncer | None:
    """PgBouncer's admin console: its version and pools."""
    try:
        conn = psycopg.connect(dsn, autocommit=True, prepare_threshold=None, connect_timeout=max(1, int(timeout)))
    except psycopg.Error as exc:
        found.notes.missing("pgbouncer", f"cannot connect to {safe_dsn(dsn)}: {describe(exc)}; not written "
                                         "(the DSN names the admin database pgbouncer and a user in "
                                         "admin_users or stats_users)")
        return None
    try:
        with conn:
            version = conn.execute("SHOW VERSION").fetchone()
            pools = conn.execute("SHOW POOLS").fetchall()
    except psycopg.Error as exc:
        found.notes.missing("pgbouncer", f"{safe_dsn(dsn)} is not PgBouncer's admin console ({describe(exc)}); "
                                         "not written")
        return None
    written, had_password = without_password(dsn, "PGBOUNCER_PASSWORD")
    if had_password:
        found.env["PGBOUNCER_PASSWORD"] = "the password of PgBouncer's stats or admin user"
    text = str(version[0]) if version else "PgBouncer"
    found.notes.found("pgbouncer", f"{text} at {safe_dsn(dsn)}, {len(pools)} pools")
    return PgBouncer(dsn=written, version=text, pools=len(pools))
