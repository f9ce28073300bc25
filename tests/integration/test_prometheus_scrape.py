"""A real Prometheus scrapes a real process exporting ``streams.metrics``.

Also loads the alert rules into that Prometheus and runs every dashboard expression against it,
so rules and panels are known to be accepted by the server, not only by static checks.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.prometheus import PrometheusServer, find_binary, value

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.prometheus,
    pytest.mark.skipif(
        find_binary() is None,
        reason="prometheus binary not installed (Debian package 'prometheus'; "
        "`make test` installs it via deploy/ensure-test-tools.sh)",
    ),
]

# A tiny exporter: the real metric objects, a real prometheus_client HTTP server on 127.0.0.1.
EXPORTER = """
import sys, time
from prometheus_client import start_http_server
import streams.metrics as m

server, _thread = start_http_server(0, addr="127.0.0.1")
m.FEED_ITEMS.labels("test-feed").inc(3)
m.FEED_FETCHES.labels("test-feed", "ok").inc(2)
m.FEED_FETCHES.labels("test-feed", "error").inc()
m.FEED_LAST_SUCCESS.labels("test-feed").set(1700000000)
m.RAW_CONSUMED.inc(5)
m.EVENTS.labels("lead").inc(4)
m.EVENT_LATENCY_SECONDS.observe(0.2)
m.EVENT_LATENCY_SECONDS.observe(3.0)
print(server.server_port, flush=True)
sys.stdin.read()  # run until the test closes stdin
"""


@pytest.fixture(scope="module")
def exporter() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", EXPORTER],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.isdigit(), f"exporter did not start (exit {proc.poll()})"
        yield f"127.0.0.1:{line}"
    finally:
        if proc.stdin:
            proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def prom(exporter: str) -> Iterator[PrometheusServer]:
    rules = ROOT / "dashboards" / "prometheus" / "alerts.yml"
    with PrometheusServer({"news-poller": [exporter]}, rule_files=[rules]) as server:
        yield server


def test_target_is_up(prom: PrometheusServer, exporter: str) -> None:
    result = prom.wait_for(
        'up{job="news-poller"}', lambda r: bool(r) and value(r[0]) == 1, timeout=30
    )
    assert result[0]["metric"]["instance"] == exporter
    (target,) = prom.targets()
    assert target["health"] == "up"


def test_counters_are_queryable(prom: PrometheusServer) -> None:
    items = prom.wait_for('news_feed_items_total{feed="test-feed"}', bool, timeout=30)
    assert value(items[0]) == 3
    fetches = prom.query("sum by (outcome) (news_feed_fetches_total)")
    assert {s["metric"]["outcome"]: value(s) for s in fetches} == {"ok": 2, "error": 1}
    assert value(prom.query("news_raw_items_total")[0]) == 5
    assert value(prom.query('news_events_total{kind="lead"}')[0]) == 4
    assert value(prom.query("news_feed_last_success_timestamp_seconds")[0]) == 1700000000


def test_histogram_is_queryable(prom: PrometheusServer) -> None:
    prom.wait_for("news_event_latency_seconds_count", bool, timeout=30)
    assert value(prom.query("news_event_latency_seconds_count")[0]) == 2
    le_5 = prom.query('news_event_latency_seconds_bucket{le="5.0"}')
    assert value(le_5[0]) == 2
    le_01 = prom.query('news_event_latency_seconds_bucket{le="0.1"}')
    assert value(le_01[0]) == 0


def test_process_metrics_are_exported(prom: PrometheusServer) -> None:
    prom.wait_for("process_resident_memory_bytes", bool, timeout=30)
    assert value(prom.query("process_resident_memory_bytes")[0]) > 0


def test_alert_rules_load_and_evaluate(prom: PrometheusServer) -> None:
    def stale_feed_alerts(rules: list[dict[str, Any]]) -> list[Any]:
        (rule,) = [r for r in rules if r["name"] == "FeedDown" and r["labels"]["reason"] == "stale"]
        alerts: list[Any] = rule.get("alerts") or []
        return alerts

    deadline = time.monotonic() + 30
    while True:
        rules = [r for g in prom.rules() for r in g["rules"]]
        healthy = bool(rules) and all(r.get("health") == "ok" for r in rules)
        if (healthy and stale_feed_alerts(rules)) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(rules) >= 9
    bad = [(r["name"], r.get("health"), r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert not bad
    # test-feed's last success (2023) is long ago: FeedDown(stale) is at least pending
    assert stale_feed_alerts(rules), "FeedDown(stale) should be pending for test-feed"


def test_every_dashboard_expression_is_accepted(prom: PrometheusServer) -> None:
    dashboard = json.loads(
        (ROOT / "dashboards" / "grafana" / "news-streams.json").read_text(encoding="utf-8")
    )
    substitutions = {"$__rate_interval": "1m", "$__range": "1h", "$feed": ".*"}
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert len(exprs) > 20
    for expr in exprs:
        for var, repl in substitutions.items():
            expr = expr.replace(var, repl)
        assert not re.search(r"\$\w", expr), f"unsubstituted Grafana variable in {expr}"
        prom.query(expr)  # raises PrometheusError on a PromQL error
