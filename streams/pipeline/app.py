"""The Faust app, its topics and its tables, declared up front (faust-streaming example style).

Everything is built by :func:`build` from :class:`~streams.settings.Settings`, so tests can
run several isolated apps against one broker.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust
from faust.types import TopicT
from faust.types.tables import WindowWrapperT

from streams import topics
from streams.kafka import faust_broker_urls, faust_credentials
from streams.settings import Settings, dedup_expires
from streams.text.fingerprint import STAGES


@dataclass
class Pipeline:
    """The app plus handles the agents use; one instance per worker process."""

    app: faust.App
    settings: Settings
    raw: TopicT
    dlq: TopicT
    events: TopicT
    units: list[TopicT]
    dedup: list[WindowWrapperT]
    tag_topics: dict[str, TopicT]


def changelog_topic(settings: Settings, stage: int) -> str:
    """Faust's name for the changelog of dedup table ``stage`` (``<app>-<table>-changelog``)."""
    return f"{settings.app_id}-dedup-s{stage}-changelog"


def internal_topics(settings: Settings) -> dict[str, dict[str, str]]:
    """Internal topics with their configs, created before the worker subscribes.

    Faust declares them itself too, but a consumer that subscribes before a topic exists ignores
    it until the next metadata refresh (minutes), stalling a fresh deployment; so the worker
    creates them first. Changelogs are compacted and, as windowed-table changelogs, also expire.
    """
    retention_ms = str(int(dedup_expires(settings) * 1000))
    out: dict[str, dict[str, str]] = {}
    for stage in range(STAGES):
        out[topics.units_topic(settings.app_id, stage)] = {}
        out[changelog_topic(settings, stage)] = {
            "cleanup.policy": "compact,delete",
            "retention.ms": retention_ms,
        }
    return out


def build(settings: Settings, tag_ids: list[str]) -> Pipeline:
    app = faust.App(
        settings.app_id,
        broker=faust_broker_urls(settings),
        broker_credentials=faust_credentials(settings),
        store=settings.store,
        datadir=str(settings.data_dir / "faust"),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication_factor,
        topic_allow_declare=True,
        processing_guarantee=settings.processing_guarantee,
        web_port=settings.web_port,
        web_host="127.0.0.1",
        web_bind=settings.bind_host,
        table_cleanup_interval=60.0,
        producer_acks=-1,
        # Units are small and many: bigger batches and a short linger cut requests per record.
        producer_max_batch_size=1_048_576,
        producer_linger_ms=5,
        consumer_auto_offset_reset="earliest",
        logging_config=None,
    )
    raw = app.topic(topics.RAW, key_serializer="raw", value_serializer="raw", internal=False)
    dlq = app.topic(topics.RAW_DLQ, key_serializer="raw", value_serializer="raw")
    events = app.topic(topics.EVENTS, key_serializer="raw", value_serializer="raw")
    tag_topics = {
        t: app.topic(topics.tag_topic(t), key_serializer="raw", value_serializer="raw")
        for t in tag_ids
    }
    units = [
        app.topic(
            topics.units_topic(settings.app_id, stage),
            key_serializer="json",
            value_serializer="json",
            partitions=settings.partitions,
            internal=True,
        )
        for stage in range(STAGES)
    ]
    dedup = [
        app.Table(
            f"dedup-s{stage}",
            default=list,
            schema=faust.Schema(key_serializer="json", value_serializer="json"),
            partitions=settings.partitions,
            help=f"Dedup stage {stage}: stage key -> recently first-seen units (Seen.to_json).",
        ).tumbling(settings.dedup_window_s, expires=dedup_expires(settings))
        for stage in range(STAGES)
    ]
    return Pipeline(app, settings, raw, dlq, events, units, dedup, tag_topics)
