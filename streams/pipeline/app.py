"""The Faust app and its topics, declared up front (faust-streaming example style).

Everything is built by :func:`build` from :class:`~streams.settings.Settings`, so tests can
run several isolated apps against one broker. Dedup state is not a Faust table: see
``streams/pipeline/state.py`` for why, and for the commit order that replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT

from streams import topics
from streams.kafka import faust_broker_urls, faust_credentials
from streams.settings import Settings, dedup_expires, worker_id
from streams.text.fingerprint import STAGES


@dataclass
class Pipeline:
    """The app plus handles the agents use; one instance per worker process."""

    app: faust.App
    settings: Settings
    raw: TopicT
    units: list[TopicT]
    tag_ids: list[str]


def state_topic(settings: Settings, stage: int) -> str:
    """Changelog of dedup stage ``stage``: key = stage key, value = its bucket (compacted).

    Co-partitioned with ``units_topic(stage)``: partition p of one holds the state of the units
    read from partition p of the other. (Not Faust's ``-changelog`` name: the format differs
    from the Faust tables of 0.1, so an upgrade starts from fresh topics, see README.)
    """
    return f"{settings.app_id}-dedup-s{stage}-state"


def topic_configs(settings: Settings) -> dict[str, str]:
    """Configs every topic we create shares: records up to NEWS_MAX_RECORD_BYTES are accepted."""
    return {"max.message.bytes": str(settings.max_record_bytes + 64 * 1024)}


def internal_topics(settings: Settings) -> dict[str, dict[str, str]]:
    """Internal topics with their configs, created before the worker subscribes.

    A consumer that subscribes before a topic exists ignores it until the next metadata refresh
    (minutes), stalling a fresh deployment; so the worker creates them first. State topics are
    compacted (the newest bucket per key) and also expire after the dedup retention.
    """
    retention_ms = str(int(dedup_expires(settings) * 1000))
    common = topic_configs(settings)
    out: dict[str, dict[str, str]] = {}
    for stage in range(STAGES):
        out[topics.units_topic(settings.app_id, stage)] = dict(common)
        out[state_topic(settings, stage)] = {
            **common,
            "cleanup.policy": "compact,delete",
            "retention.ms": retention_ms,
            # Roll a segment every window: Kafka compacts and deletes only closed segments, so
            # without this the active segment (1 GiB by default) would hold every write and a
            # restore would read ever more (measured: +20 MB/min in the soak).
            "segment.ms": str(max(60_000, int(settings.dedup_window_s * 1000))),
        }
    return out


def build(settings: Settings, tag_ids: list[str]) -> Pipeline:
    session = settings.session_timeout_s
    app = faust.App(
        settings.app_id,
        broker=faust_broker_urls(settings),
        broker_credentials=faust_credentials(settings),
        store="memory://",
        datadir=str(settings.data_dir / "faust"),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        # Faust consumes and commits input offsets only; every output and every state write goes
        # through our own producers in the order state.py documents. Faust's exactly_once mode is
        # not used: it puts outputs into the destination partition's transaction.
        processing_guarantee="at_least_once",
        web_port=settings.web_port,
        web_host="127.0.0.1",
        web_bind=settings.bind_host,
        # A killed worker's partitions move after the session timeout; a restarted worker takes
        # its old place at once (static membership), without waiting for that timeout.
        broker_session_timeout=session,
        broker_heartbeat_interval=max(1.0, session / 4),
        broker_request_timeout=max(40.0, session * 2),
        consumer_group_instance_id=worker_id(settings),
        broker_commit_interval=1.0,
        broker_max_poll_records=settings.batch_max,
        consumer_max_fetch_size=max(4 * 1024 * 1024, settings.max_record_bytes + 64 * 1024),
        producer_max_request_size=settings.max_record_bytes + 64 * 1024,
        consumer_auto_offset_reset="earliest",
        logging_config=None,
    )
    raw = app.topic(topics.RAW, key_serializer="raw", value_serializer="raw", internal=False)
    units = [
        app.topic(
            topics.units_topic(settings.app_id, stage),
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.partitions,
            internal=True,
        )
        for stage in range(STAGES)
    ]
    return Pipeline(app, settings, raw, units, tag_ids)
