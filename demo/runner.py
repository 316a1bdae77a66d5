"""Runs the embedded default: servers, the demo shop, its load and scenarios.

Started by the process that owns the schedule (role all or worker) when
``demo.enabled`` is true, before the first collection; stopped on exit.
A config that points at real servers has ``demo.enabled: false`` and starts
nothing embedded.
"""
from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine

from demo.config import DemoConfig
from demo.embedded import EmbeddedPostgres, EmbeddedRedis
from demo.load import LoadGenerator
from demo.shop import schema
from demo.shop.app import create_shop
from demo.shop.scenarios import Hooks, Scenarios

log = logging.getLogger("lookout.demo")

SHOP_DB = "shop"


def progress(msg: str) -> None:
    print(f"  demo: {msg}", file=sys.stderr, flush=True)


class Demo:
    def __init__(self, config: DemoConfig, base_dir: Path) -> None:
        self.config = config
        data = (base_dir / config.data_dir).resolve()
        self.pg = EmbeddedPostgres(data / "postgres", config.postgres_port)
        self.redis = EmbeddedRedis(data / "redis", config.redis_port)
        self.scenarios = Scenarios(Hooks(on_start=self._scenario_started, on_stop=self._scenario_stopped))
        self.load: LoadGenerator | None = None
        self._server: Any = None  # waitress' server: its type is private
        self._threads: list[threading.Thread] = []
        self._lock_stop = threading.Event()
        self._flush_stop = threading.Event()
        self._pool_stop = threading.Event()
        self._shop_app: Flask | None = None
        self._stopping = threading.Event()
        self.engine: Engine | None = None

    @property
    def shop_url(self) -> str:
        return f"http://127.0.0.1:{self.config.shop_port}"

    def start(self) -> None:
        progress(f"starting embedded PostgreSQL on 127.0.0.1:{self.config.postgres_port}")
        self.pg.start()
        progress("starting embedded Redis")
        self.redis.start()
        with psycopg.connect(self.pg.dsn(), autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (SHOP_DB,)).fetchone():
                conn.execute(f'CREATE DATABASE "{SHOP_DB}"')
            # The postgres target connects to this database: the view must exist here too.
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        engine = create_engine(self.pg.dsn(SHOP_DB).replace("postgresql://", "postgresql+psycopg://"),
                               pool_size=1, max_overflow=0)
        self.engine = engine
        schema.create(engine)
        schema.refresh_daily_sales(engine)
        self._spawn(self._refresh_loop, "demo-mv-refresh")
        progress(f"starting the demo shop on {self.shop_url} and its load ({self.config.load_rate:g} req/s)")
        self._serve_shop()
        if self.config.load_rate > 0:
            self.load = LoadGenerator(self.shop_url, rate=self.config.load_rate)
            self.load.start()
        for name in self.config.scenarios:
            self.scenarios.set(name, True)

    def _serve_shop(self) -> None:
        from waitress import create_server

        app = create_shop(self.pg.dsn(SHOP_DB).replace("postgresql://", "postgresql+psycopg://"),
                          self.redis.url(), self.scenarios)
        self._shop_app = app
        server = self._server = create_server(app, host="127.0.0.1", port=self.config.shop_port, threads=12)
        t = threading.Thread(target=server.run, name="demo-shop", daemon=True)
        t.start()
        self._threads.append(t)

    # -- scenarios with side effects outside the shop -------------------------
    def _scenario_started(self, name: str) -> None:
        log.warning("demo scenario %s switched on", name)
        if name == "redis_down":
            self.redis.stop()
        elif name == "long_lock":
            self._lock_stop.clear()
            self._spawn(self._hold_lock, "demo-long-lock")
        elif name == "cache_stampede":
            self._flush_stop.clear()
            self._spawn(self._flush_loop, "demo-cache-flush")
        elif name == "pool_exhaustion":
            self._pool_stop.clear()
            self._spawn(self._leak_connections, "demo-pool-leak")

    def _scenario_stopped(self, name: str) -> None:
        log.warning("demo scenario %s switched off", name)
        if name == "redis_down" and not self.redis.running:
            self.redis.start()
        elif name == "long_lock":
            self._lock_stop.set()
        elif name == "cache_stampede":
            self._flush_stop.set()
        elif name == "pool_exhaustion":
            self._pool_stop.set()

    def _spawn(self, fn, name: str) -> None:
        t = threading.Thread(target=fn, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def _hold_lock(self) -> None:
        with psycopg.connect(self.pg.dsn(SHOP_DB), application_name="demo-migration") as conn:
            conn.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
            self._lock_stop.wait(3600)
            conn.rollback()

    def _leak_connections(self) -> None:
        """Check out all but one of the shop's pooled connections and keep them (a leaking job)."""
        from demo.shop.app import MAX_OVERFLOW, POOL_SIZE

        assert self._shop_app is not None  # the scenario starts after the shop
        engine = self._shop_app.extensions["shop_engine"]
        held: list[Connection] = []
        try:
            while len(held) < POOL_SIZE + MAX_OVERFLOW - 1 and not self._pool_stop.is_set():
                try:
                    held.append(engine.connect())
                except Exception as exc:  # noqa: BLE001 - pool timeout while traffic holds them: try again
                    log.debug("demo pool leak: %s", exc)
            self._pool_stop.wait(3600)
        finally:
            for conn in held:
                conn.close()

    def _refresh_loop(self) -> None:
        # The nightly job of a real shop, every 5 minutes here.
        while not self._stopping.wait(300):
            try:
                if self.engine is not None:
                    schema.refresh_daily_sales(self.engine)
            except Exception as exc:  # noqa: BLE001 - a demo chore; the panel shows the age
                log.warning("refreshing daily_sales: %s", exc)

    def _flush_loop(self) -> None:
        import redis

        client = redis.Redis.from_url(self.redis.url(), socket_timeout=1)
        while not self._flush_stop.wait(2.0):
            try:
                client.flushall()
            except redis.RedisError:
                pass

    def stop(self) -> None:
        self._stopping.set()
        self._lock_stop.set()
        self._flush_stop.set()
        self._pool_stop.set()
        if self.load is not None:
            self.load.stop()
        if self._server is not None:
            self._server.close()
        if self.engine is not None:
            self.engine.dispose()
        self.redis.stop()
        self.pg.stop()
        progress("embedded servers stopped")
