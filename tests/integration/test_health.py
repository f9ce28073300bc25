"""Worker health on a real broker: ``/readyz`` is 503 while a dedup table recovers from its
changelog and 200 once it is recovered; ``/healthz`` answers all along; lag is exported.

The changelog is filled directly (as a long-running deployment would have filled it), then a
worker with an in-memory store starts: it must replay the whole changelog before it is ready.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from streams import settings as settings_mod
from streams.pipeline.app import changelog_topic
from streams.service_cli import _create_internal_topics, create_all_topics
from tests.integration.stack import Worker, env_for

CHANGELOG_RECORDS = 40_000
"""Enough that replaying them takes seconds, so the test sees the worker recovering."""


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


async def _fill_changelog(bootstrap: str, topic: str, n: int, partitions: int) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024, acks=1
    )
    await producer.start()
    try:
        value = json.dumps([]).encode()
        pending = []
        for i in range(n):
            key = json.dumps([f"k{i}", [0.0, 86400.0]]).encode()
            pending.append(
                await producer.send(topic, key=key, value=value, partition=i % partitions)
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


@pytest.mark.timeout(300)
async def test_readyz_false_while_recovering_true_after(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    app_id = f"health-{uuid.uuid4().hex[:8]}"
    env = env_for(kafka_bootstrap, tmp_path / "worker", app_id, NEWS_STORE="memory://")
    s = settings_mod.load(env)
    await create_all_topics(s)
    await _create_internal_topics(s)
    await _fill_changelog(kafka_bootstrap, changelog_topic(s, 0), CHANGELOG_RECORDS, s.partitions)

    worker = Worker(env, tmp_path / "worker")
    base = f"http://127.0.0.1:{worker.web_port}"
    seen: list[tuple[float, int, Any]] = []
    started = time.monotonic()
    try:
        while time.monotonic() - started < 240:
            assert worker.alive(), worker.log_tail()
            try:
                status, body = await asyncio.to_thread(_get, f"{base}/readyz")
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                await asyncio.sleep(0.2)  # web server not up yet
                continue
            seen.append((round(time.monotonic() - started, 1), status, body))
            if status == 200:
                break
            await asyncio.sleep(0.1)
        alive_status, alive = await asyncio.to_thread(_get, f"{base}/healthz")
        await asyncio.sleep(6)  # one lag timer tick
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
    finally:
        worker.stop()

    trace = "\n".join(map(str, seen[-20:])) + "\n" + worker.log_tail(30)
    assert seen and seen[-1][1] == 200, trace
    assert seen[-1][2] == {
        "ready": True,
        "checks": {"group_joined": True, "tables_recovered": True, "producer_connected": True},
    }
    recovering = [
        body
        for _, status, body in seen
        if status == 503
        and body["checks"]["group_joined"]
        and not body["checks"]["tables_recovered"]
    ]
    assert recovering, f"never saw the worker recovering (joined, tables not recovered):\n{trace}"
    assert all(body["ready"] is False for _, status, body in seen if status == 503)
    assert (alive_status, alive) == (200, {"alive": True})
    assert f'news_consumer_lag{{partition="0",topic="{app_id}-dedup-s0-changelog"}}' not in metrics
    assert 'news_consumer_lag{partition="0",topic="news.raw"}' in metrics, metrics[-2000:]
