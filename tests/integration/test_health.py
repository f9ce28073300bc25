"""Worker health on a real broker: ``/readyz`` is 503 while a dedup stage's state is restored
from its state topic and 200 once it is restored; ``/healthz`` answers all along; lag is exported.

The state topic is filled directly (as a long-running deployment would have filled it), then a
worker starts; it restores every stage partition as soon as it is assigned, before any record
arrives, and must replay their whole state before it is ready.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from streams import records, topics
from streams import settings as settings_mod
from streams.pipeline.app import state_topic
from streams.pipeline.state import encode_bucket
from streams.service_cli import _create_internal_topics, create_all_topics
from streams.text.dedup import Seen
from streams.text.fingerprint import signature
from streams.times import now_iso
from tests.integration.stack import Worker, env_for, produce

STATE_RECORDS = 120_000
"""Spread over the partitions: enough that a restore takes a while, so the test sees it."""


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _bucket_value() -> bytes:
    """A realistic state record value: one first-seen unit with a real signature."""
    sig = signature("Рада ухвалила закон про нові правила для перевізників у понеділок.")
    return encode_bucket([Seen("e" * 32, sig, time.time())])


async def _fill_state(bootstrap: str, topic: str, n: int, partitions: int) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024, acks=1
    )
    await producer.start()
    try:
        value = _bucket_value()
        pending = []
        for i in range(n):
            key = f"k{i}".encode()
            pending.append(
                await producer.send(topic, key=key, value=value, partition=i % partitions)
            )
            if len(pending) >= 5000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _poll_ready(
    base: str,
    worker: Worker,
    seen: list[tuple[float, int, Any]],
    started: float,
    timeout: float,
    after_503: bool = False,
) -> None:
    """Poll /readyz into ``seen`` until it answers 200 (with ``after_503``: a 200 that follows
    a 503), or the timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.alive(), worker.log_tail()
        try:
            status, body = await asyncio.to_thread(_get, f"{base}/readyz")
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            await asyncio.sleep(0.2)  # web server not up yet
            continue
        seen.append((round(time.monotonic() - started, 2), status, body))
        if status == 200 and (not after_503 or any(st == 503 for _, st, _ in seen)):
            return
        await asyncio.sleep(0.05)


@pytest.mark.timeout(300)
async def test_readyz_false_while_recovering_true_after(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    app_id = f"health-{uuid.uuid4().hex[:8]}"
    env = env_for(kafka_bootstrap, tmp_path / "worker", app_id)
    s = settings_mod.load(env)
    await create_all_topics(s)
    await _create_internal_topics(s)
    await _fill_state(kafka_bootstrap, state_topic(s, 0), STATE_RECORDS, s.partitions)

    worker = Worker(env, tmp_path / "worker")
    base = f"http://127.0.0.1:{worker.web_port}"
    before: list[tuple[float, int, Any]] = []
    seen: list[tuple[float, int, Any]] = []
    started = time.monotonic()
    try:
        # Partitions are restored as soon as they are assigned, before any record arrives:
        # /readyz is 503 (joined, state not restored) until every one is done.
        await _poll_ready(base, worker, before, started, 180)
        log_ready = worker.log_path.read_text(errors="replace")
        item: records.RawItem = {
            "item_id": f"health-{uuid.uuid4().hex[:6]}",
            "feed": "health",
            "url": None,
            "title": "Рада ухвалила закон про перевізників",
            "published": None,
            "fetched_at": now_iso(),
            "content": "Рада ухвалила закон про нові правила для перевізників у понеділок. "
            "Документ набуде чинності через місяць після публікації.",
            "content_type": "text/plain",
            "guid": None,
        }
        await produce(
            kafka_bootstrap, topics.RAW, [(item["item_id"].encode(), records.encode(item))]
        )
        await _poll_ready(base, worker, seen, started, 60)
        alive_status, alive = await asyncio.to_thread(_get, f"{base}/healthz")
        await asyncio.sleep(6)  # one lag timer tick
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as resp:
            metrics = resp.read().decode()
    finally:
        worker.stop()

    trace = "\n".join(map(str, before[-20:])) + "\n" + worker.log_tail(30)
    assert before and before[-1][1] == 200, trace
    assert before[-1][2] == {
        "ready": True,
        "checks": {"group_joined": True, "state_restored": True, "producer_connected": True},
    }
    restoring = [
        body
        for _, status, body in before
        if status == 503 and body["checks"]["group_joined"] and not body["checks"]["state_restored"]
    ]
    assert restoring, f"never saw the worker restoring (joined, state not restored):\n{trace}"
    assert all(body["ready"] is False for _, status, body in before if status == 503)
    restored = re.findall(r"dedup stage 0 partition \d+ restored: (\d+) records", log_ready)
    assert len(restored) == s.partitions, log_ready[-3000:]  # all of them, before any record
    assert sum(map(int, restored)) == STATE_RECORDS
    assert seen and seen[-1][1] == 200, seen[-5:]
    assert (alive_status, alive) == (200, {"alive": True})
    assert 'news_consumer_lag{partition="0",topic="news.raw"}' in metrics, metrics[-2000:]
