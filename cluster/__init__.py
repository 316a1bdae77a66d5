"""Several worker processes on one PostgreSQL store, with no protocol of Lookout's own.

- ``membership``: workers register and heartbeat in the store's ``workers`` table;
  live = heartbeat younger than a few ticks.
- ``assignment``: rendezvous hashing of targets over the live worker ids (pure).
- ``leases``: one lease row per target, taken by compare-and-set; a worker collects
  a target only while it holds the unexpired lease.
- ``election``: one alert evaluator, one dispatcher and one maintenance runner,
  each a session-level ``pg_try_advisory_lock`` on a dedicated connection.
- ``node``: the per-process coordinator that the scheduler and alerting ask.

Only ``--role worker`` on a PostgreSQL store uses it: on SQLite there is one
process, and it does everything.
"""
