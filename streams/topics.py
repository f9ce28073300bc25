"""Topic names in one place. Other teams consume ``news.events`` and ``news.topic.<tag>``.

Internal topics (Faust changelogs, our repartition stages) are prefixed by the app id, the
way Faust names its own, so that several deployments can share one cluster.
"""

from __future__ import annotations

RAW = "news.raw"
"""Raw feed items, key = item_id, value = JSON (see ``streams.feeds.parse.RawItem``)."""

RAW_DLQ = "news.raw.dlq"
"""Records from ``news.raw`` that could not be processed; header ``x-dlq-reason`` says why."""

EVENTS = "news.events"
"""Every first-seen unit (lead or teaser) as a schema-versioned event."""

FEEDS = "news.feeds"
"""The live feed registry (compacted), key = feed id, value = feed JSON (see ``registry``).

The YAML feeds file only bootstraps it; ``news-streams feeds add|remove|pause|resume`` edit it.
"""

FEEDS_STATE = "news.feeds.state"
"""Per-feed poller state (compacted), key = feed id, co-partitioned with :data:`FEEDS`: URL after
permanent redirects, validators, schedule, error state and the ids of items already produced.
Written in the same Kafka transaction as the items it accounts for."""

TAG_TOPIC_PREFIX = "news.topic."
"""``news.topic.<tag>``: the events carrying ``<tag>``, one topic per taxonomy tag."""


def tag_topic(tag: str) -> str:
    """Name of the per-tag topic (tags are lowercase ids such as ``north-korea``)."""
    return f"{TAG_TOPIC_PREFIX}{tag}"


def units_topic(app_id: str, stage: int) -> str:
    """Internal repartition topic feeding dedup stage ``stage`` (keyed by that stage's key)."""
    return f"{app_id}-units-s{stage}-repartition"
