"""Generate ``dashboards/grafana/news-streams.json`` (the committed file is this script's output).

Run ``python dashboards/grafana/build_dashboard.py`` after editing; the unit test
``tests/unit/test_deploy_files.py`` fails when the JSON and this script disagree, and checks that
every PromQL expression uses only metric names that exist.

Faust's sensor metrics are expected under the ``faust_`` prefix
(``setup_prometheus_sensors(app, name_prefix="faust")`` in the worker).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("news-streams.json")
DS: dict[str, str] = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
RI = "$__rate_interval"
FEED = 'feed=~"$feed"'
APP_JOBS = 'job=~"news-poller|news-worker"'

Panel = dict[str, Any]


class Layout:
    """Places panels left to right on Grafana's 24-column grid, rows stacked downwards."""

    def __init__(self) -> None:
        self.y = 0
        self.x = 0
        self.row_h = 0
        self.next_id = 1
        self.panels: list[Panel] = []

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id - 1

    def row(self, title: str) -> None:
        self._newline()
        self.panels.append(
            {
                "type": "row",
                "id": self._id(),
                "title": title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y},
                "panels": [],
            }
        )
        self.y += 1

    def _newline(self) -> None:
        if self.x:
            self.y += self.row_h
            self.x = 0
            self.row_h = 0

    def add(self, panel: Panel, w: int = 8, h: int = 8) -> None:
        if self.x + w > 24:
            self._newline()
        panel["id"] = self._id()
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)


def target(expr: str, legend: str = "", ref: str = "A", instant: bool = False) -> dict[str, Any]:
    return {
        "datasource": DS,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "refId": ref,
        "range": not instant,
        "instant": instant,
    }


def targets(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [target(e, legend, chr(ord("A") + i)) for i, (e, legend) in enumerate(pairs)]


def timeseries(
    title: str,
    description: str,
    tgts: list[dict[str, Any]],
    unit: str = "short",
    stack: bool = False,
    thresholds: list[tuple[float, str]] | None = None,
) -> Panel:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in thresholds or []]
    custom: dict[str, Any] = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10,
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"mode": "normal" if stack else "none", "group": "A"},
    }
    if thresholds:
        custom["thresholdsStyle"] = {"mode": "line"}
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": tgts,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "custom": custom,
                "thresholds": {"mode": "absolute", "steps": steps},
            },
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def bargauge(
    title: str,
    description: str,
    tgt: dict[str, Any],
    unit: str = "short",
    thresholds: list[tuple[float, str]] | None = None,
) -> Panel:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in thresholds or []]
    return {
        "type": "bargauge",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [tgt],
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "min": 0,
                "thresholds": {"mode": "absolute", "steps": steps},
            },
            "overrides": [],
        },
        "options": {
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        },
    }


def stat(title: str, description: str, tgt: dict[str, Any]) -> Panel:
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [tgt],
        "fieldConfig": {
            "defaults": {
                "mappings": [
                    {
                        "type": "value",
                        "options": {
                            "0": {"text": "DOWN", "color": "red"},
                            "1": {"text": "UP", "color": "green"},
                        },
                    }
                ],
                "thresholds": {
                    "mode": "absolute",
                    "steps": [{"color": "red", "value": None}, {"color": "green", "value": 1}],
                },
            },
            "overrides": [],
        },
        "options": {
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value_and_name",
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        },
    }


def quantiles(metric: str, qs: tuple[float, ...], by: str = "le") -> list[dict[str, Any]]:
    return targets(
        *(
            (
                f"histogram_quantile({q}, sum by ({by}) (rate({metric}_bucket[{RI}])))",
                f"p{round(q * 100)}",
            )
            for q in qs
        )
    )


def build() -> dict[str, Any]:
    lay = Layout()

    # --- Feeds -------------------------------------------------------------------------------
    lay.row("Feeds (poller)")
    lay.add(
        timeseries(
            "Fetch rate by outcome",
            "Feed fetch attempts per second, split by outcome (news_feed_fetches_total).",
            targets(
                (f"sum by (outcome) (rate(news_feed_fetches_total{{{FEED}}}[{RI}]))", "{{outcome}}")
            ),
            unit="reqps",
            stack=True,
        )
    )
    lay.add(
        bargauge(
            "Feeds with consecutive errors",
            "Feeds whose last polls failed (news_feed_consecutive_errors > 0). "
            "FeedDown fires at 5.",
            target(
                f"sort_desc(news_feed_consecutive_errors{{{FEED}}} > 0)", "{{feed}}", instant=True
            ),
            thresholds=[(3, "orange"), (5, "red")],
        )
    )
    lay.add(
        timeseries(
            "Items produced / s by feed",
            "Items each feed contributes to news.raw (news_feed_items_total).",
            targets((f"sum by (feed) (rate(news_feed_items_total{{{FEED}}}[{RI}]))", "{{feed}}")),
            unit="ops",
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Fetch latency p50 / p99",
            "Time to fetch and parse one feed (news_feed_fetch_seconds).",
            quantiles("news_feed_fetch_seconds", (0.5, 0.99)),
            unit="s",
        ),
        w=12,
    )
    lay.add(
        timeseries(
            "Seconds since last successful poll",
            "Age of each feed's last good poll. FeedDown fires above 900 s "
            "(3 x the default poll interval).",
            targets((f"time() - news_feed_last_success_timestamp_seconds{{{FEED}}}", "{{feed}}")),
            unit="s",
            thresholds=[(900, "red")],
        ),
        w=12,
    )

    lay.add(
        timeseries(
            "Feeds by state",
            "Feeds owned by the pollers by state: active, failing (polled at the maximum "
            "interval), disabled (410; feeds resume), paused (news_feed_states).",
            targets(("sum by (state) (news_feed_states)", "{{state}}")),
        )
    )
    lay.add(
        timeseries(
            "HTTP answers by code",
            "Feed fetch answers per second by status code (news_feed_http_responses_total).",
            targets((f"sum by (code) (rate(news_feed_http_responses_total[{RI}]))", "{{code}}")),
            unit="reqps",
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Schedule delay and commit p99",
            "How late due polls start (news_feed_schedule_delay_seconds: a poller that is "
            "behind) and the wait for the Kafka transaction of items + state "
            "(news_feed_commit_seconds).",
            targets(
                (
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(news_feed_schedule_delay_seconds_bucket[{RI}])))",
                    "schedule delay p99",
                ),
                (
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(news_feed_commit_seconds_bucket[{RI}])))",
                    "commit p99",
                ),
            ),
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "Entries new vs seen, bytes",
            "Parsed entries by result (news_feed_entries_total) and feed bytes received "
            "(news_feed_bytes_total).",
            targets(
                (f"sum by (result) (rate(news_feed_entries_total[{RI}]))", "{{result}}"),
                (f"rate(news_feed_bytes_total[{RI}])", "bytes/s"),
            ),
        )
    )
    lay.add(
        timeseries(
            "Poller events",
            "Stored URLs moved by permanent redirects (news_feed_url_updates_total), polls over "
            "NEWS_FEED_SEEN_MAX (news_feed_seen_cap_hits_total), transactions by outcome "
            "(news_feed_state_commits_total), full-text fetches "
            "(news_feed_fulltext_fetches_total).",
            targets(
                (f"increase(news_feed_url_updates_total[{RI}])", "url moved"),
                (f"increase(news_feed_seen_cap_hits_total[{RI}])", "seen cap hit"),
                (
                    f"sum by (outcome) (increase(news_feed_state_commits_total[{RI}]))",
                    "commit {{outcome}}",
                ),
                (
                    f"sum by (outcome) (increase(news_feed_fulltext_fetches_total[{RI}]))",
                    "full text {{outcome}}",
                ),
            ),
        ),
        w=16,
    )

    # --- Pipeline ----------------------------------------------------------------------------
    lay.row("Pipeline (workers)")
    lay.add(
        timeseries(
            "Raw items consumed / s",
            "Raw items the workers consume from news.raw (news_raw_items_total).",
            targets(
                (f"sum(rate(news_raw_items_total[{RI}]))", "total"),
                (f"sum by (instance) (rate(news_raw_items_total[{RI}]))", "{{instance}}"),
            ),
            unit="ops",
        )
    )
    lay.add(
        timeseries(
            "Units / s by kind",
            "Units (lead/teaser) split out of raw items (news_units_total).",
            targets((f"sum by (kind) (rate(news_units_total[{RI}]))", "{{kind}}")),
            unit="ops",
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Events emitted / s by kind",
            "Deduplicated events produced to news.events (news_events_total).",
            targets((f"sum by (kind) (rate(news_events_total[{RI}]))", "{{kind}}")),
            unit="ops",
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Duplicates dropped / s by stage",
            "Units dropped as duplicates, by dedup stage (news_duplicates_total).",
            targets((f"sum by (stage) (rate(news_duplicates_total[{RI}]))", "{{stage}}")),
            unit="ops",
            stack=True,
        )
    )
    lay.add(
        timeseries(
            "Dedup ratio (duplicates / units)",
            "Share of units dropped as duplicates. Sustained > 98% suggests a broken splitter or "
            "fingerprint (DedupRatioAnomaly).",
            targets(
                (
                    f"sum(rate(news_duplicates_total[{RI}])) / sum(rate(news_units_total[{RI}]))",
                    "ratio",
                )
            ),
            unit="percentunit",
            thresholds=[(0.98, "red")],
        )
    )
    lay.add(
        bargauge(
            "Top tags (selected range)",
            "The 10 tags with most events over the dashboard's time range (news_tag_events_total).",
            target(
                "topk(10, sum by (tag) (increase(news_tag_events_total[$__range])))",
                "{{tag}}",
                instant=True,
            ),
        )
    )
    lay.add(
        timeseries(
            "Dead-lettered records / s by reason",
            "Records sent to a dead-letter topic (news_dlq_records_total). "
            "Anything sustained above 0 fires DeadLetterRecords.",
            targets((f"sum by (reason) (rate(news_dlq_records_total[{RI}]))", "{{reason}}")),
            unit="ops",
            thresholds=[(0.001, "red")],
        )
    )
    lay.add(
        timeseries(
            "Processing time per raw item p50 / p99",
            "Text-core time per raw item: split + fingerprint + tag (news_process_seconds).",
            quantiles("news_process_seconds", (0.5, 0.99)),
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "End-to-end latency p50 / p99",
            "fetched_at -> event emission (news_event_latency_seconds). "
            "EventLatencyHigh fires when p99 > 30 s.",
            quantiles("news_event_latency_seconds", (0.5, 0.99)),
            unit="s",
            thresholds=[(30, "red")],
        )
    )

    lay.add(
        timeseries(
            "Batch size p50 / p99 by stage",
            "Records (split) or units (dedup stages) per batch (news_batch_records). Small "
            "batches at high load mean the stage waits on Kafka, not on the text core.",
            quantiles("news_batch_records", (0.5, 0.99), by="le, stage"),
        )
    )
    lay.add(
        timeseries(
            "Batch time by stage and phase (mean)",
            "Seconds per batch spent processing (text core, dedup decisions) and writing (send "
            "and acknowledgement, or the transaction commit) (news_batch_seconds).",
            targets(
                (
                    f"sum by (stage, phase) (rate(news_batch_seconds_sum[{RI}])) / "
                    f"sum by (stage, phase) (rate(news_batch_seconds_count[{RI}]))",
                    "{{stage}} {{phase}}",
                )
            ),
            unit="s",
        )
    )
    lay.add(
        timeseries(
            "Dedup state entries by stage",
            "Live first-seen entries held per stage (news_dedup_state_entries), bounded by the "
            "dedup window; state restores take (news_dedup_state_restore_seconds) p99.",
            targets(
                ("sum by (stage) (news_dedup_state_entries)", "stage {{stage}}"),
                (
                    "histogram_quantile(0.99, sum by (le) "
                    f"(rate(news_dedup_state_restore_seconds_bucket[{RI}])))",
                    "restore p99 (s)",
                ),
            ),
        )
    )

    lay.add(
        timeseries(
            "Dedup batches retried / s by reason",
            "Batches not decided at the first attempt (news_stage_batch_retries_total): "
            "not_owned after rebalances is normal; fenced or kafka outside a broker incident or "
            "a rebalance means a worker competes for partitions it does not own.",
            targets(
                (
                    f"sum by (stage, reason) (rate(news_stage_batch_retries_total[{RI}]))",
                    "s{{stage}} {{reason}}",
                )
            ),
            unit="ops",
        )
    )

    # --- Kafka / Faust -----------------------------------------------------------------------
    lay.row("Kafka / Faust")
    lay.add(
        timeseries(
            "Consumer lag by topic",
            "End offset minus committed offset, summed over partitions (Faust sensor gauges "
            "faust_topic_partition_end_offset / faust_topic_partition_offset_commited).",
            targets(
                (
                    "sum by (topic) (faust_topic_partition_end_offset"
                    " - faust_topic_partition_offset_commited)",
                    "{{topic}}",
                )
            ),
            thresholds=[(10000, "red")],
        )
    )
    lay.add(
        timeseries(
            "Commit latency p50 / p99",
            "Consumer offset commit latency in ms (faust_consumer_commit_latency).",
            quantiles("faust_consumer_commit_latency", (0.5, 0.99)),
            unit="ms",
        )
    )
    lay.add(
        timeseries(
            "Producer send latency p99",
            "Time to get a produce acknowledged, in ms (faust_producer_send_latency).",
            quantiles("faust_producer_send_latency", (0.99,), by="le, instance"),
            unit="ms",
        )
    )
    lay.add(
        timeseries(
            "Messages in / out per worker",
            "Messages received by the consumer and sent by the producer, per worker.",
            targets(
                (
                    f"sum by (instance) (rate(faust_messages_received_total[{RI}]))",
                    "in {{instance}}",
                ),
                (
                    f"sum by (instance) (rate(faust_total_sent_messages_total[{RI}]))",
                    "out {{instance}}",
                ),
                (
                    f"sum by (instance) (rate(faust_total_error_messages_sent_total[{RI}]))",
                    "send errors {{instance}}",
                ),
            ),
            unit="ops",
        )
    )
    lay.add(
        timeseries(
            "Rebalances",
            "Rebalances seen by each worker (faust_total_rebalances); frequent steps mean "
            "workers flapping.",
            targets(("faust_total_rebalances", "{{instance}}")),
        )
    )
    lay.add(
        timeseries(
            "Consumer lag per partition (top 10)",
            "Records not yet committed on each assigned partition, per worker "
            "(news_consumer_lag, set every 5 s by the worker; the same figure /readyz users "
            "watch during recovery).",
            targets(
                (
                    "topk(10, max by (topic, partition) (news_consumer_lag))",
                    "{{topic}} [{{partition}}]",
                )
            ),
            thresholds=[(10000, "red")],
        )
    )

    # --- Process -----------------------------------------------------------------------------
    lay.row("Process")
    lay.add(
        stat(
            "Scrape targets",
            "up == 1 when Prometheus can scrape the process (PollerDown / WorkerDown).",
            target(f"up{{{APP_JOBS}}}", "{{instance}}", instant=True),
        ),
        w=6,
    )
    lay.add(
        timeseries(
            "CPU (cores)",
            "CPU seconds per second used by each process (process_cpu_seconds_total).",
            targets((f"rate(process_cpu_seconds_total{{{APP_JOBS}}}[{RI}])", "{{instance}}")),
            unit="short",
        ),
        w=6,
    )
    lay.add(
        timeseries(
            "Resident memory",
            "RSS of each process (process_resident_memory_bytes).",
            targets((f"process_resident_memory_bytes{{{APP_JOBS}}}", "{{instance}}")),
            unit="bytes",
        ),
        w=6,
    )
    lay.add(
        timeseries(
            "Open file descriptors",
            "Open fds vs the limit (process_open_fds / process_max_fds).",
            targets(
                (f"process_open_fds{{{APP_JOBS}}}", "{{instance}}"),
                (f"max(process_max_fds{{{APP_JOBS}}})", "limit"),
            ),
        ),
        w=6,
    )

    return {
        "uid": "news-streams",
        "title": "news-streams",
        "description": "Feed poller, Faust workers, Kafka consumer health and process resources.",
        "tags": ["news-streams", "kafka", "faust"],
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "links": [],
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "templating": {
            "list": [
                {
                    "name": "DS_PROMETHEUS",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {"selected": False, "text": "Prometheus", "value": "prometheus"},
                    "hide": 0,
                    "refresh": 1,
                    "regex": "",
                    "options": [],
                },
                {
                    "name": "feed",
                    "label": "Feed",
                    "type": "query",
                    "datasource": DS,
                    "definition": "label_values(news_feed_fetches_total, feed)",
                    "query": {
                        "query": "label_values(news_feed_fetches_total, feed)",
                        "refId": "PrometheusVariableQueryEditor-VariableQuery",
                    },
                    "includeAll": True,
                    "multi": True,
                    "allValue": ".*",
                    "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
                    "refresh": 2,
                    "sort": 1,
                    "hide": 0,
                    "regex": "",
                    "options": [],
                },
            ]
        },
        "panels": lay.panels,
    }


def render() -> str:
    return json.dumps(build(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv[1:]:
        return 0 if OUT.exists() and OUT.read_text(encoding="utf-8") == text else 1
    OUT.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
