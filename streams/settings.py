"""Every ``NEWS_*`` setting in one typed place (12-factor: environment only).

The README configuration table is generated from :data:`FIELDS` (``news-streams settings
--markdown``), so documentation cannot drift from code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PREFIX = "NEWS_"


class SettingsError(ValueError):
    """A ``NEWS_*`` variable has a value that cannot be used; the message names it."""


def _meta(env: str, doc: str, *, secret: bool = False) -> dict[str, Any]:
    return {"env": env, "doc": doc, "secret": secret}


MASK = "***"
"""Shown instead of a secret's value (``repr``, ``news-streams settings``, logs)."""

SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


BROKER_JVM_OPTS = "-XX:TieredStopAtLevel=1"
"""The embedded broker's extra JVM options (``NEWS_BROKER_JVM_OPTS``)."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration. Build with :func:`load`; never read ``os.environ`` elsewhere."""

    bootstrap_servers: str = field(
        default="127.0.0.1:19092",
        metadata=_meta("NEWS_BOOTSTRAP_SERVERS", "Kafka bootstrap servers (comma separated)."),
    )
    partitions: int = field(
        default=6, metadata=_meta("NEWS_PARTITIONS", "Partitions for every topic we create.")
    )
    replication_factor: int = field(
        default=1, metadata=_meta("NEWS_REPLICATION_FACTOR", "Replication factor for our topics.")
    )
    app_id: str = field(
        default="news-streams",
        metadata=_meta("NEWS_APP_ID", "Faust app id: consumer group and internal-topic prefix."),
    )
    data_dir: Path = field(
        default=Path("var"),
        metadata=_meta(
            "NEWS_DATA_DIR",
            "Local files: embedded broker data, Faust bookkeeping, caches (no dedup state).",
        ),
    )
    dedup_window_s: float = field(
        default=24 * 3600.0,
        metadata=_meta("NEWS_DEDUP_WINDOW_S", "Dedup window length in seconds (event time)."),
    )
    dedup_expires_s: float = field(
        default=0.0,
        metadata=_meta(
            "NEWS_DEDUP_EXPIRES_S",
            "Retention of the dedup state topics (0 = 2 windows + 1 h, the minimum that works).",
        ),
    )
    feeds_file: Path = field(
        default=Path("feeds.yaml"),
        metadata=_meta("NEWS_FEEDS_FILE", "YAML file listing the feeds to poll."),
    )
    poll_interval_s: float = field(
        default=300.0,
        metadata=_meta("NEWS_POLL_INTERVAL_S", "Default interval between polls of one feed."),
    )
    fetch_timeout_s: float = field(
        default=20.0, metadata=_meta("NEWS_FETCH_TIMEOUT_S", "Total timeout of one feed fetch.")
    )
    fetch_max_bytes: int = field(
        default=10 * 1024 * 1024,
        metadata=_meta("NEWS_FETCH_MAX_BYTES", "Largest feed body accepted; larger is an error."),
    )
    fetch_concurrency: int = field(
        default=16, metadata=_meta("NEWS_FETCH_CONCURRENCY", "Feeds fetched at the same time.")
    )
    user_agent: str = field(
        default="news-streams/0.1 (+https://example.invalid/news-streams)",
        metadata=_meta("NEWS_USER_AGENT", "User-Agent sent to feed servers."),
    )
    allow_private_hosts: bool = field(
        default=False,
        metadata=_meta(
            "NEWS_ALLOW_PRIVATE_HOSTS",
            "Allow feeds on loopback/private addresses (needed for the local demo and tests).",
        ),
    )
    web_port: int = field(
        default=6066, metadata=_meta("NEWS_WEB_PORT", "Faust worker web port (serves /metrics).")
    )
    metrics_port: int = field(
        default=9108,
        metadata=_meta("NEWS_METRICS_PORT", "Poller's Prometheus /metrics port (0 = off)."),
    )
    broker_port: int = field(
        default=19092, metadata=_meta("NEWS_BROKER_PORT", "Embedded broker client port.")
    )
    broker_controller_port: int = field(
        default=19093,
        metadata=_meta("NEWS_BROKER_CONTROLLER_PORT", "Embedded broker KRaft controller port."),
    )
    broker_jvm_opts: str = field(
        default=BROKER_JVM_OPTS,
        metadata=_meta(
            "NEWS_BROKER_JVM_OPTS",
            "Extra JVM options of the embedded broker (space-separated). The default compiles "
            "with C1 only: on 2 cores the C2 compiler took half of the broker's CPU through "
            "15,000 items and more than doubled the pipeline's p99 latency (bench/pipeline.py). "
            "Empty: the JVM's defaults.",
        ),
    )
    kafka_version: str = field(
        default="4.0.0", metadata=_meta("NEWS_KAFKA_VERSION", "Embedded broker Kafka version.")
    )
    cache_dir: Path = field(
        default=Path.home() / ".cache" / "news-streams",
        metadata=_meta("NEWS_CACHE_DIR", "Where Kafka jars are cached between runs."),
    )
    processing_guarantee: str = field(
        default="exactly_once",
        metadata=_meta(
            "NEWS_PROCESSING_GUARANTEE",
            "exactly_once: events, tag copies and dedup state commit in one Kafka transaction "
            "(read_committed consumers see each event once); at_least_once: never lost, a "
            "repeat carries the same event_id.",
        ),
    )
    log_level: str = field(
        default="INFO", metadata=_meta("NEWS_LOG_LEVEL", "Log level for all processes.")
    )
    # --- pipeline (batching, recovery, record sizes) ---
    batch_max: int = field(
        default=1000,
        metadata=_meta("NEWS_BATCH_MAX", "Most records a worker stage takes as one batch."),
    )
    batch_within_s: float = field(
        default=0.02,
        metadata=_meta(
            "NEWS_BATCH_WITHIN_S",
            "Longest a stage waits to fill a batch: each of the three stages adds up to this "
            "much latency; smaller batches cost more per item (bench/pipeline.py).",
        ),
    )
    max_record_bytes: int = field(
        default=4 * 1024 * 1024,
        metadata=_meta(
            "NEWS_MAX_RECORD_BYTES",
            "Largest record we produce; topics are created with this max.message.bytes and "
            "clients with this max_request_size. Larger raw items go to the DLQ.",
        ),
    )
    session_timeout_s: float = field(
        default=10.0,
        metadata=_meta(
            "NEWS_SESSION_TIMEOUT_S",
            "Consumer-group session timeout: how soon a killed worker's partitions move.",
        ),
    )
    shutdown_timeout_s: float = field(
        default=30.0,
        metadata=_meta(
            "NEWS_SHUTDOWN_TIMEOUT_S",
            "A worker or poller asked to stop (SIGTERM/SIGINT) exits within this many seconds, "
            "even with a batch or commit stuck on an unreachable broker (safe: the replay "
            "decides it again; uncommitted polls are polled again).",
        ),
    )
    core_processes: int = field(
        default=2,
        metadata=_meta(
            "NEWS_CORE_PROCESSES",
            "Processes of a worker's text-core pool for splitting (most of its CPU); about the "
            "cores each worker may use. One more process builds the final stage's events "
            "(tagging), so they never queue behind split work. 0 runs the whole core on a thread "
            "of the worker itself.",
        ),
    )
    worker_id: str = field(
        default="",
        metadata=_meta(
            "NEWS_WORKER_ID",
            "Static group membership id of this worker (stable across restarts, unique per "
            "process; empty = <hostname>-<NEWS_WEB_PORT>).",
        ),
    )
    # --- ops: Kafka security, bind address -----------------------------------------------
    kafka_security_protocol: str = field(
        default="PLAINTEXT",
        metadata=_meta(
            "NEWS_KAFKA_SECURITY_PROTOCOL",
            "Kafka security protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL.",
        ),
    )
    kafka_sasl_mechanism: str = field(
        default="SCRAM-SHA-512",
        metadata=_meta(
            "NEWS_KAFKA_SASL_MECHANISM", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512."
        ),
    )
    kafka_sasl_username: str = field(
        default="", metadata=_meta("NEWS_KAFKA_SASL_USERNAME", "SASL user name.")
    )
    kafka_sasl_username_file: str = field(
        default="",
        metadata=_meta(
            "NEWS_KAFKA_SASL_USERNAME_FILE", "File holding the SASL user name (e.g. a secret)."
        ),
    )
    kafka_sasl_password: str = field(
        default="",
        repr=False,
        metadata=_meta("NEWS_KAFKA_SASL_PASSWORD", "SASL password (never logged).", secret=True),
    )
    kafka_sasl_password_file: str = field(
        default="",
        metadata=_meta(
            "NEWS_KAFKA_SASL_PASSWORD_FILE", "File holding the SASL password (a mounted secret)."
        ),
    )
    kafka_ssl_cafile: str = field(
        default="",
        metadata=_meta(
            "NEWS_KAFKA_SSL_CAFILE", "PEM CA bundle to verify the brokers (empty = system CAs)."
        ),
    )
    kafka_ssl_certfile: str = field(
        default="",
        metadata=_meta("NEWS_KAFKA_SSL_CERTFILE", "PEM client certificate (mutual TLS)."),
    )
    kafka_ssl_keyfile: str = field(
        default="", metadata=_meta("NEWS_KAFKA_SSL_KEYFILE", "PEM client private key (mutual TLS).")
    )
    kafka_ssl_key_password: str = field(
        default="",
        repr=False,
        metadata=_meta(
            "NEWS_KAFKA_SSL_KEY_PASSWORD", "Password of an encrypted client key.", secret=True
        ),
    )
    kafka_ssl_check_hostname: bool = field(
        default=True,
        metadata=_meta(
            "NEWS_KAFKA_SSL_CHECK_HOSTNAME", "Check that broker certificates match their host name."
        ),
    )
    kafka_connect_timeout_s: float = field(
        default=10.0,
        metadata=_meta(
            "NEWS_KAFKA_CONNECT_TIMEOUT_S",
            "Start-up check: give up (clear error) if Kafka does not accept us within this time.",
        ),
    )
    bind_host: str = field(
        default="127.0.0.1",
        metadata=_meta(
            "NEWS_BIND_HOST",
            "Address the worker web server and poller metrics listen on (0.0.0.0 in containers).",
        ),
    )

    # --- compression ---
    compression: str = field(
        default="none",
        metadata=_meta(
            "NEWS_COMPRESSION",
            "Compression of the records the worker and the poller produce: none, zstd, lz4, "
            "snappy or gzip. zstd saves ~55% of bytes for ~65 us CPU per item "
            "(bench/compression.py), but every consumer must then support zstd.",
        ),
    )
    # --- poller ---
    poll_schedule: str = field(
        default="fixed",
        metadata=_meta(
            "NEWS_POLL_SCHEDULE",
            "Default feed schedule: fixed (the feed's interval) or adaptive (from its item rate).",
        ),
    )
    poll_min_interval_s: float = field(
        default=60.0,
        metadata=_meta("NEWS_POLL_MIN_INTERVAL_S", "Shortest interval the adaptive schedule uses."),
    )
    poll_max_interval_s: float = field(
        default=6 * 3600.0,
        metadata=_meta(
            "NEWS_POLL_MAX_INTERVAL_S",
            "Longest interval: adaptive schedule bound, and how often a failing feed is polled.",
        ),
    )
    poll_failing_after: int = field(
        default=5,
        metadata=_meta(
            "NEWS_POLL_FAILING_AFTER", "Consecutive failed polls after which a feed is failing."
        ),
    )
    feed_seen_max: int = field(
        default=25_000,
        metadata=_meta(
            "NEWS_FEED_SEEN_MAX",
            "Most item ids remembered per feed (at least what the feed lists, up to this cap).",
        ),
    )
    parse_processes: int = field(
        default=0,
        metadata=_meta(
            "NEWS_PARSE_PROCESSES", "Processes parsing feeds off the event loop (0 = one per CPU)."
        ),
    )
    poller_session_timeout_s: float = field(
        default=6.0,
        metadata=_meta(
            "NEWS_POLLER_SESSION_TIMEOUT_S",
            "Poller group session timeout: a dead poller's feeds move after about this long.",
        ),
    )
    full_text: str = field(
        default="off",
        metadata=_meta(
            "NEWS_FULL_TEXT",
            "Default full-text mode of feeds: off, auto (when an item is only a short summary) "
            "or always.",
        ),
    )
    full_text_summary_chars: int = field(
        default=400,
        metadata=_meta(
            "NEWS_FULL_TEXT_SUMMARY_CHARS", "In auto mode, items shorter than this get full text."
        ),
    )
    full_text_host_concurrency: int = field(
        default=2,
        metadata=_meta(
            "NEWS_FULL_TEXT_HOST_CONCURRENCY", "Article fetches at the same time per host."
        ),
    )
    full_text_host_delay_s: float = field(
        default=1.0,
        metadata=_meta(
            "NEWS_FULL_TEXT_HOST_DELAY_S", "Pause between article fetches from one host."
        ),
    )


FIELDS = fields(Settings)
COMPRESSIONS = ("none", "zstd", "lz4", "snappy", "gzip")


def _convert(raw: str, typ: Any, env: str) -> Any:
    typ_name = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))
    try:
        if typ_name == "int":
            return int(raw)
        if typ_name == "float":
            return float(raw)
        if typ_name == "bool":
            low = raw.strip().lower()
            if low in {"1", "true", "yes", "on"}:
                return True
            if low in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if typ_name == "Path":
            return Path(raw).expanduser()
        return raw
    except ValueError:
        raise SettingsError(f"{env}={raw!r} is not a valid {typ_name}") from None


def load(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read settings from ``environ`` (default ``os.environ``); ``overrides`` win (CLI flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in FIELDS:
        name = f.metadata["env"]
        if name in env:
            values[f.name] = _convert(env[name], f.type, name)
    values.update({k: v for k, v in overrides.items() if v is not None})
    settings = Settings(**values)
    _check(settings)
    return settings


def _check(s: Settings) -> None:
    """Reject values that would fail later in a less obvious place."""
    if s.partitions < 1:
        raise SettingsError(f"NEWS_PARTITIONS must be >= 1, got {s.partitions}")
    if s.dedup_window_s <= 0:
        raise SettingsError(f"NEWS_DEDUP_WINDOW_S must be > 0, got {s.dedup_window_s}")
    if s.dedup_expires_s and s.dedup_expires_s < 2 * s.dedup_window_s:
        raise SettingsError(
            "NEWS_DEDUP_EXPIRES_S must be at least 2 x NEWS_DEDUP_WINDOW_S: the dedup lookup "
            "reads the current and the previous window"
        )
    if s.poll_schedule not in {"fixed", "adaptive"}:
        raise SettingsError(
            f"NEWS_POLL_SCHEDULE must be fixed or adaptive, got {s.poll_schedule!r}"
        )
    if not 0 < s.poll_min_interval_s <= s.poll_max_interval_s:
        raise SettingsError("need 0 < NEWS_POLL_MIN_INTERVAL_S <= NEWS_POLL_MAX_INTERVAL_S")
    if s.poll_failing_after < 1 or s.feed_seen_max < 1 or s.parse_processes < 0:
        raise SettingsError(
            "NEWS_POLL_FAILING_AFTER and NEWS_FEED_SEEN_MAX must be >= 1, NEWS_PARSE_PROCESSES >= 0"
        )
    if s.full_text not in {"off", "auto", "always"}:
        raise SettingsError(f"NEWS_FULL_TEXT must be off, auto or always, got {s.full_text!r}")
    if s.core_processes < 0:
        raise SettingsError(f"NEWS_CORE_PROCESSES must be >= 0, got {s.core_processes}")
    if s.batch_max < 1 or s.batch_within_s <= 0:
        raise SettingsError("NEWS_BATCH_MAX must be >= 1 and NEWS_BATCH_WITHIN_S > 0")
    if s.max_record_bytes < 64 * 1024:
        raise SettingsError(f"NEWS_MAX_RECORD_BYTES must be >= 65536, got {s.max_record_bytes}")
    _check_security(s)
    if s.compression not in COMPRESSIONS:
        raise SettingsError(
            f"NEWS_COMPRESSION must be one of {', '.join(COMPRESSIONS)}, got {s.compression!r}"
        )
    if s.processing_guarantee not in {"at_least_once", "exactly_once"}:
        raise SettingsError(
            f"NEWS_PROCESSING_GUARANTEE must be at_least_once or exactly_once, "
            f"got {s.processing_guarantee!r}"
        )


def worker_id(s: Settings) -> str:
    """The static membership id: a restarted worker takes its old place without a rebalance."""
    if s.worker_id:
        return s.worker_id
    import socket

    return f"{socket.gethostname()}-{s.web_port}"


def _check_security(s: Settings) -> None:
    proto = s.kafka_security_protocol
    if proto not in SECURITY_PROTOCOLS:
        raise SettingsError(
            f"NEWS_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(SECURITY_PROTOCOLS)}, "
            f"got {proto!r}"
        )
    if s.kafka_sasl_mechanism not in SASL_MECHANISMS:
        raise SettingsError(
            f"NEWS_KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}, "
            f"got {s.kafka_sasl_mechanism!r}"
        )
    if proto.startswith("SASL_"):
        if not (s.kafka_sasl_username or s.kafka_sasl_username_file):
            raise SettingsError(
                f"NEWS_KAFKA_SECURITY_PROTOCOL={proto} needs NEWS_KAFKA_SASL_USERNAME "
                "(or NEWS_KAFKA_SASL_USERNAME_FILE)"
            )
        if not (s.kafka_sasl_password or s.kafka_sasl_password_file):
            raise SettingsError(
                f"NEWS_KAFKA_SECURITY_PROTOCOL={proto} needs NEWS_KAFKA_SASL_PASSWORD "
                "(or NEWS_KAFKA_SASL_PASSWORD_FILE)"
            )
    if bool(s.kafka_ssl_certfile) != bool(s.kafka_ssl_keyfile):
        raise SettingsError(
            "NEWS_KAFKA_SSL_CERTFILE and NEWS_KAFKA_SSL_KEYFILE go together (mutual TLS)"
        )
    for env, path in (
        ("NEWS_KAFKA_SASL_USERNAME_FILE", s.kafka_sasl_username_file),
        ("NEWS_KAFKA_SASL_PASSWORD_FILE", s.kafka_sasl_password_file),
        ("NEWS_KAFKA_SSL_CAFILE", s.kafka_ssl_cafile),
        ("NEWS_KAFKA_SSL_CERTFILE", s.kafka_ssl_certfile),
        ("NEWS_KAFKA_SSL_KEYFILE", s.kafka_ssl_keyfile),
    ):
        if path and not Path(path).expanduser().is_file():
            raise SettingsError(f"{env}={path!r}: no such file")


def display(s: Settings) -> dict[str, str]:
    """``NEWS_*`` name -> value as users set it, secrets masked (``news-streams settings``)."""
    out: dict[str, str] = {}
    for f in FIELDS:
        value = getattr(s, f.name)
        if f.metadata.get("secret") and value:
            value = MASK
        out[f.metadata["env"]] = str(value)
    return out


def dedup_expires(s: Settings) -> float:
    """Effective window retention: two windows (current + previous) plus an hour of slack."""
    return s.dedup_expires_s or 2 * s.dedup_window_s + 3600.0


def markdown_table() -> str:
    """The README configuration table, generated so docs and code agree."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    defaults = Settings()
    for f in FIELDS:
        default = getattr(defaults, f.name)
        if f.name == "cache_dir":
            default = "~/.cache/news-streams"
        if default == "":
            default = "(empty)"
        rows.append(f"| `{f.metadata['env']}` | `{default}` | {f.metadata['doc']} |")
    return "\n".join(rows)
