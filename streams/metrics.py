"""Every Prometheus metric, defined once. Processes import what they update.

Names follow Prometheus conventions: ``news_`` prefix, ``_total`` for counters, base units.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- poller -----------------------------------------------------------------------------
FEED_FETCHES = Counter(
    "news_feed_fetches_total", "Feed fetch attempts by outcome.", ["feed", "outcome"]
)
FEED_FETCH_SECONDS = Histogram(
    "news_feed_fetch_seconds",
    "Time to fetch and parse one feed.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
FEED_ITEMS = Counter("news_feed_items_total", "Items produced to news.raw.", ["feed"])
FEED_CONSECUTIVE_ERRORS = Gauge(
    "news_feed_consecutive_errors", "Consecutive failed polls of a feed.", ["feed"]
)
FEED_LAST_SUCCESS = Gauge(
    "news_feed_last_success_timestamp_seconds", "Unix time of the last good poll.", ["feed"]
)

# --- worker -----------------------------------------------------------------------------
RAW_CONSUMED = Counter("news_raw_items_total", "Raw items consumed by the worker.")
DLQ_RECORDS = Counter("news_dlq_records_total", "Records sent to a dead-letter topic.", ["reason"])
UNITS = Counter("news_units_total", "Units (lead/teaser) split out of raw items.", ["kind"])
DUPLICATES = Counter(
    "news_duplicates_total", "Units dropped as duplicates, by dedup stage.", ["stage"]
)
EVENTS = Counter("news_events_total", "Events emitted to news.events.", ["kind"])
TAG_EVENTS = Counter("news_tag_events_total", "Events emitted per tag topic.", ["tag"])
PROCESS_SECONDS = Histogram(
    "news_process_seconds",
    "Text-core time per raw item (split + fingerprint + tag).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)
EVENT_LATENCY_SECONDS = Histogram(
    "news_event_latency_seconds",
    "Time from fetched_at to event emission.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)

# --- worker: batching and state ---------------------------------------------------------
BATCH_SIZE = Histogram(
    "news_batch_records",
    "Records (split) or units (dedup stages) handled per batch, by stage.",
    ["stage"],
    buckets=(1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000),
)
STATE_ENTRIES = Gauge(
    "news_dedup_state_entries",
    "Live first-seen entries held in a dedup stage partition's state.",
    ["stage", "partition"],
)
STATE_RESTORE_SECONDS = Histogram(
    "news_dedup_state_restore_seconds",
    "Time to rebuild one stage partition's state from its state topic.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
BATCH_SECONDS = Histogram(
    "news_batch_seconds",
    "Time per batch by stage and phase: process (text core / decide) and write (send and "
    "wait for acknowledgement or transaction commit).",
    ["stage", "phase"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)

# --- ops: health ------------------------------------------------------------------------
CONSUMER_LAG = Gauge(
    "news_consumer_lag",
    "Records on an assigned partition not yet committed by this worker (end offset - committed).",
    ["topic", "partition"],
)
