"""``kind: redis``: Redis INFO and latency in redis_exporter's names.

One round trip per poll: INFO all, CONFIG GET of the settings redis_exporter
exports, SLOWLOG LEN / GET 1, LATENCY LATEST and (Redis 7+) LATENCY HISTOGRAM go
in one pipeline; a server in cluster mode gets a second one, CLUSTER INFO (asked
only then: an error reply would count in the server's own error stats). Replies
that are errors (a renamed CONFIG, LATENCY HISTOGRAM on 6.2) degrade that part
only; an unreachable server fails the collection and reports ``redis_up 0``.
Each run also reports redis_exporter's health families for the target
(``redis_exporter_last_scrape_error`` and the others, see ``health.py``).

Example::

    - name: cache
      kind: redis
      url: rediss://cache.internal:6380/0
      password: ${REDIS_PASSWORD}
      interval: 15s
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any, Literal

import redis
from pydantic import Field, model_validator
from redis.backoff import NoBackoff
from redis.retry import Retry

from collectors.base import Collector, CollectorError
from collectors.redis import latency, sections
from collectors.redis.derived import Poll, derive
from collectors.redis.health import Health
from collectors.redis.parse import number, parse_info
from collectors.redis.settings import CONFIG_KEYS, config_samples, config_value
from collectors.redis.tables import cluster_samples, info_samples
from core.durations import Duration
from core.samples import Batch, Sample
from core.targets import TargetBase

_URL_PW = re.compile(r"(://[^:/@]*):[^@/]*@")


class RedisTarget(TargetBase):
    kind: Literal["redis"] = "redis"
    url: str = Field("redis://127.0.0.1:6379/0", pattern=r"^(redis|rediss|unix)://",
                     description="redis://host:port/db, rediss:// for TLS, unix:///path/to/socket.")
    username: str | None = Field(None, description="ACL user (Redis 6+).")
    password: str | None = Field(None, description="Password; write `${REDIS_PASSWORD}`, never the value.")
    db: int | None = Field(None, ge=0, description="Database index; overrides the one in the URL.")
    socket_timeout: Duration | None = Field(None, description="Per-command timeout; default half the target timeout.")
    socket_connect_timeout: Duration | None = Field(
        None, description="Connect timeout; default half the target timeout.")
    tls_ca_file: str | None = Field(None, description="CA bundle for rediss:// (default: system CAs).")
    tls_verify: bool = Field(True, description="Verify the server certificate for rediss://.")
    latency_histogram: bool = Field(True, description="Ask LATENCY HISTOGRAM (Redis 7+) for interval percentiles.")

    @model_validator(mode="after")
    def _socket_timeouts_below_timeout(self) -> RedisTarget:
        limit = self.timeout if self.timeout is not None else min(10.0, self.interval * 0.8)
        for key in ("socket_timeout", "socket_connect_timeout"):
            value = getattr(self, key)
            if value is None:
                object.__setattr__(self, key, limit / 2)
            elif value >= limit:
                raise ValueError(f"{key} ({value:g}s) must be shorter than the target timeout ({limit:g}s)")
        return self


def safe_url(url: str) -> str:
    return _URL_PW.sub(r"\1:***@", url)


class RedisCollector(Collector):
    kind = "redis"
    up_metric = "redis_up"
    up_help = "1 if the Redis server could be scraped."

    def __init__(self, target: RedisTarget, **kw: Any) -> None:
        super().__init__(target, **kw)
        self.client: redis.Redis | None = None
        self._prev: Poll | None = None
        self._prev_hist: dict[str, latency.Histogram] | None = None
        self._histogram_supported: bool | None = None if target.latency_histogram else False
        self._histogram_reason = "disabled in config (latency_histogram: false)"
        self.health = Health(secrets=tuple(x for x in (target.password,) if x))

    def run(self) -> Batch:
        batch = super().run()
        batch.samples.extend(self.health.samples(batch))
        return batch

    def _connect(self) -> redis.Redis:
        t = self.target
        kw: dict[str, Any] = dict(
            username=t.username, password=t.password, socket_timeout=t.socket_timeout,
            socket_connect_timeout=t.socket_connect_timeout, decode_responses=True, protocol=2,
            client_name="lookout", retry=Retry(NoBackoff(), 0), health_check_interval=0,
        )
        if t.url.startswith("rediss://"):
            kw.update(ssl_ca_certs=t.tls_ca_file, ssl_cert_reqs="required" if t.tls_verify else "none",
                      ssl_check_hostname=t.tls_verify)
        client = redis.Redis.from_url(t.url, **kw)
        if t.db is not None:  # from_url lets the URL's /N win over a db= argument
            client.connection_pool.connection_kwargs["db"] = t.db
        client.set_response_callback("INFO", lambda raw, **_: raw)  # our parser tolerates anything
        client.set_response_callback("CLUSTER INFO", lambda raw, **_: raw)
        return client

    def _connected(self) -> redis.Redis:
        """The kept client; a new connection is timed (redis_exporter_last_scrape_connect_time_seconds)."""
        if self.client is None:
            self.client = self._connect()
            t0 = time.perf_counter()
            conn = self.client.connection_pool.get_connection()  # connects (and AUTH, SELECT, SETNAME)
            self.health.connect_seconds = time.perf_counter() - t0
            self.client.connection_pool.release(conn)
        return self.client

    def collect(self) -> Iterable[Sample]:
        ask_hist = self._histogram_supported is not False
        try:
            pipe = self._connected().pipeline(transaction=False)
        except redis.AuthenticationError as exc:  # a ConnectionError subclass: test it first
            self.close()
            raise CollectorError(f"redis at {safe_url(self.target.url)}: {exc}", permanent=True) from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self.close()
            raise CollectorError(f"redis at {safe_url(self.target.url)}: {exc}") from None
        pipe.execute_command("INFO", "all")
        for key in CONFIG_KEYS:
            pipe.execute_command("CONFIG", "GET", key)
        pipe.execute_command("SLOWLOG", "LEN")
        pipe.execute_command("SLOWLOG", "GET", "1")
        pipe.execute_command("LATENCY", "LATEST")
        if ask_hist:
            pipe.execute_command("LATENCY", "HISTOGRAM")
        try:
            replies = pipe.execute(raise_on_error=False)
        except redis.AuthenticationError as exc:  # a ConnectionError subclass: test it first
            self.close()
            raise CollectorError(f"redis at {safe_url(self.target.url)}: {exc}", permanent=True) from None
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self.close()  # a fresh connection next time
            raise CollectorError(f"redis at {safe_url(self.target.url)}: {exc}") from None
        info_raw = replies[0]
        config = dict(zip(CONFIG_KEYS, replies[1:1 + len(CONFIG_KEYS)], strict=True))
        slow_len, slow_last, latest, *hist = replies[1 + len(CONFIG_KEYS):]
        if isinstance(info_raw, Exception) or not isinstance(info_raw, str):
            raise CollectorError(f"redis at {safe_url(self.target.url)}: INFO failed: {info_raw}",
                                 permanent=isinstance(info_raw, redis.AuthenticationError))
        now = self.clock()
        info = parse_info(info_raw)
        flat = {k: v for sec in info.values() for k, v in sec.items()}
        maxclients = config_value(config["maxclients"]) or number(flat.get("maxclients"))
        databases = int(config_value(config["databases"]) or 16)  # redis_exporter's default too
        if flat.get("cluster_enabled") == "1":
            databases = 1  # a cluster has db0 only; the exporter pads no more
            yield from self._cluster_info()

        yield from info_samples(info, databases, now)
        maxmemory = number(flat.get("maxmemory"))
        yield from config_samples(config, {"maxclients": maxclients, "maxmemory": maxmemory})
        yield from latency.slowlog(slow_len, slow_last)
        yield from latency.latency_latest(latest)
        yield from self._histogram(hist[0] if ask_hist else None, flat.get("redis_version", "?"),
                                   latency.command_totals(info.get("commandstats", {})))

        poll = Poll(at=now, hits=number(flat.get("keyspace_hits")), misses=number(flat.get("keyspace_misses")),
                    commands=number(flat.get("total_commands_processed")), evicted=number(flat.get("evicted_keys")),
                    used_memory=number(flat.get("used_memory")), maxmemory=maxmemory,
                    clients=number(flat.get("connected_clients")), maxclients=maxclients)
        derived, doc = derive(self._prev, poll)
        self._prev = poll
        yield from derived
        self.documents["redis_derived"] = doc
        self.documents["redis_replication"] = sections.replication_doc(info.get("replication", {}))
        self.documents["redis_slowlog_last"] = latency.slow_command(slow_last)

    def _cluster_info(self) -> Iterable[Sample]:
        assert self.client is not None
        try:
            reply = self.client.execute_command("CLUSTER INFO")
        except redis.ResponseError as exc:  # a proxy that refuses it: the rest still stands
            self.documents["redis_cluster"] = {"available": False, "reason": str(exc)}
            return
        except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
            self.close()
            raise CollectorError(f"redis at {safe_url(self.target.url)}: CLUSTER INFO: {exc}") from None
        text = reply.decode() if isinstance(reply, bytes) else str(reply)
        fields = {k: v for k, _, v in (ln.strip().partition(":") for ln in text.splitlines()) if v}
        self.documents["redis_cluster"] = {"available": True, "state": fields.get("cluster_state")}
        yield from cluster_samples(fields)

    def _histogram(self, reply: Any, version: str, totals: tuple[float, float] | None) -> Iterable[Sample]:
        if isinstance(reply, redis.ResponseError) and self._histogram_supported is None:
            self._histogram_supported = False
            self._histogram_reason = f"LATENCY HISTOGRAM needs Redis 7.0+; server is {version} ({reply})"
        if self._histogram_supported is False or reply is None or isinstance(reply, Exception):
            self.documents["redis_latency_histogram"] = {"available": False, "reason": self._histogram_reason}
            return
        self._histogram_supported = True
        hist = latency.parse_histogram(reply)
        prev, self._prev_hist = self._prev_hist, hist
        doc: dict[str, object]
        if prev is None:
            doc = {"available": True, "percentiles": None, "reason": "first poll: percentiles need two polls"}
        else:
            pcts = latency.percentiles(latency.merged_delta(hist, prev))
            doc = {"available": True, "percentiles": {f"{q:g}": s for q, s in pcts.items()} or None}
            if not pcts:
                doc["reason"] = "no commands since the previous poll"
            yield from latency.histogram_samples(pcts, totals)
        self.documents["redis_latency_histogram"] = doc


    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.close()
            client.connection_pool.disconnect()
