"""Every Prometheus metric, defined once. Processes import what they update.

Names follow Prometheus conventions: ``news_`` prefix, ``_total`` for counters, base units.
"""

from __future__ import annotations

import functools
from typing import TypeVar

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)


@functools.cache
def labelled(metric: M, *values: str) -> M:
    """``metric.labels(*values)``, memoised: the worker updates its metrics after every batch
    and event, and ``labels()`` takes a lock and builds the key on each call (~5 % of the
    worker's event loop). Label sets are few (stages, phases, kinds, tags, partitions)."""
    return metric.labels(*values)


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
STAGE_RETRIES = Counter(
    "news_stage_batch_retries_total",
    "Dedup-stage batches not decided on the first attempt, by reason: not_owned (the input "
    "partition moved in a rebalance; its new owner replays the batch), fenced (another process "
    "started the partition's transactional producer; fenced back, restored, decided again), "
    "kafka (a state restore or transaction failed; restored and decided again).",
    ["stage", "reason"],
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

# --- poller (durable state, scheduling) -------------------------------------------------
FEED_HTTP_RESPONSES = Counter(
    "news_feed_http_responses_total",
    "HTTP answers to feed fetches by status class (2xx..5xx) and code.",
    ["status_class", "code"],
)
FEED_STATES = Gauge("news_feed_states", "Feeds owned by this poller, by state.", ["state"])
FEED_SCHEDULE_DELAY_SECONDS = Histogram(
    "news_feed_schedule_delay_seconds",
    "How late a due poll started (start time minus due time).",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
FEED_ENTRIES = Counter(
    "news_feed_entries_total", "Feed entries parsed, by result (new or seen).", ["result"]
)
FEED_BYTES = Counter("news_feed_bytes_total", "Feed body bytes received (decoded).")
FEED_URL_UPDATES = Counter(
    "news_feed_url_updates_total", "Stored feed URLs changed after a permanent redirect."
)
FEED_SEEN_CAP_HITS = Counter(
    "news_feed_seen_cap_hits_total",
    "Polls of a feed listing more items than NEWS_FEED_SEEN_MAX (re-sends become possible).",
)
FEED_STATE_COMMITS = Counter(
    "news_feed_state_commits_total",
    "Kafka transactions of items + feed state, by outcome.",
    ["outcome"],
)
FEED_FULLTEXT_FETCHES = Counter(
    "news_feed_fulltext_fetches_total",
    "Article pages fetched for full text, by outcome.",
    ["outcome"],
)
FEED_COMMIT_SECONDS = Histogram(
    "news_feed_commit_seconds",
    "Time from handing a poll's items + state to the committer until the transaction committed.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
