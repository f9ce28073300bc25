"""The poller on the real embedded broker: durable state, restarts, live registry, scale-out.

Every test uses its own topics and its own app id (consumer group, transactional ids).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from streams.feeds import commands
from streams.feeds.devserver import FeedServer
from streams.feeds.group import (
    FeedTopics,
    bootstrap_registry,
    ensure_topics,
    run_group,
    write_feeds,
)
from streams.feeds.registry import Feed, encode_feed
from streams.feeds.state import ACTIVE, DISABLED
from streams.settings import Settings
from tests.integration.test_fetch import make_items, uid

ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


def setup(bootstrap: str, **extra: object) -> tuple[Settings, FeedTopics]:
    run = uid("p")
    names = FeedTopics(raw=f"test.{run}.raw", feeds=f"test.{run}.feeds", state=f"test.{run}.st")
    values: dict[str, object] = {
        "bootstrap_servers": bootstrap,
        "app_id": f"test-{run}",
        "partitions": 3,
        "allow_private_hosts": True,
        "metrics_port": 0,
        "parse_processes": 1,
        "fetch_timeout_s": 5.0,
    }
    settings = Settings(**{**values, **extra})  # type: ignore[arg-type]
    return settings, names


async def produced(settings: Settings, topic: str) -> list[dict[str, object]]:
    """Everything a read_committed consumer sees on ``topic`` (as another team would read)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        isolation_level="read_committed",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: list[dict[str, object]] = []
        deadline = time.monotonic() + 60
        while any([await consumer.position(tp) < end[tp] for tp in tps]):
            assert time.monotonic() < deadline, "reading the topic took too long"
            for records in (await consumer.getmany(timeout_ms=500)).values():
                out.extend(json.loads(r.value) for r in records if r.value is not None)
        return out
    finally:
        await consumer.stop()


def no_repeats(items: list[dict[str, object]]) -> None:
    counts = collections.Counter(str(i["item_id"]) for i in items)
    repeated = {k: n for k, n in counts.items() if n > 1}
    assert not repeated, f"{len(repeated)} item(s) produced more than once"


async def until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_restart_resumes_from_kafka_state_and_produces_nothing_twice(
    kafka_bootstrap: str, server: FeedServer
) -> None:
    settings, names = setup(kafka_bootstrap)
    huge, moved, gone, bad = uid("huge"), uid("moved"), uid("gone"), uid("bad")
    server.add_feed(huge, make_items(huge, 10_000))
    server.add_feed(moved, make_items(moved, 2))
    feeds = [
        Feed(huge, server.feed_url(huge)),
        Feed(moved, server.url(f"test/moved/301/{moved}")),
        Feed(gone, server.url("test/status/410")),
        Feed(bad, server.url("test/billion-laughs")),
    ]
    first = {o.feed: o for o in await run_group(settings, feeds, names=names, once=True)}
    assert first[huge].new == 10_000 and first[moved].new == 2
    assert first[gone].status == DISABLED and first[bad].outcome == "parse"

    # A restarted poller (``poll --once`` again): conditional GETs from the stored state.
    second = {o.feed: o for o in await run_group(settings, feeds, names=names, once=True)}
    assert second[huge].outcome == "not_modified" and second[moved].outcome == "not_modified"
    assert gone not in second  # disabled stays disabled across restarts
    assert server.requests[f"/test/moved/301/{moved}"] == 1  # the stored URL was used

    server.add_items(huge, make_items(huge, 1, start=10_000))
    third = {o.feed: o for o in await run_group(settings, feeds, names=names, once=True)}
    assert (third[huge].new, third[huge].seen) == (1, 10_000)

    items = await produced(settings, names.raw)
    no_repeats(items)
    assert len(items) == 10_003
    assert not [i for i in items if i["feed"] == bad]

    rows = {r["id"]: r for r in await commands.rows(settings, names)}
    assert rows[gone]["state"] == DISABLED and rows[gone]["last_code"] == 410
    assert rows[moved]["url"] == server.feed_url(moved) and rows[moved]["state"] == ACTIVE
    assert rows[huge]["seen_items"] == 10_001
    assert rows[bad]["errors"] == 3 and "entity" in str(rows[bad]["last_error"])
    assert "gone" in commands.table(list(rows.values()))

    # The feeds file bootstraps the registry: unchanged feeds are not rewritten, a changed
    # one is updated, a feed removed by command is not re-added.
    assert await bootstrap_registry(settings, feeds, names) == []
    await commands.remove(settings, bad, names=names)
    changed = [replace(feeds[0], interval_s=42.0), *feeds[1:]]
    assert await bootstrap_registry(settings, changed, names) == [huge]
    rows = {r["id"]: r for r in await commands.rows(settings, names)}
    assert rows[huge]["interval_s"] == 42.0 and bad not in rows


async def test_feeds_commands_take_effect_on_a_running_poller(
    kafka_bootstrap: str, server: FeedServer
) -> None:
    interval = 3.0
    settings, names = setup(kafka_bootstrap, poll_interval_s=interval)
    first, added, gone = uid("first"), uid("added"), uid("gone")
    for name in (first, added):
        server.add_feed(name, make_items(name, 2))
    task = asyncio.create_task(
        run_group(settings, [Feed(first, server.feed_url(first))], names=names)
    )
    try:
        await until(lambda: server.requests.get(f"/feeds/{first}", 0) > 0, 30, "first poll")

        await commands.add(settings, server.feed_url(added), feed_id=added, names=names)
        took = await until(lambda: server.requests.get(f"/feeds/{added}", 0) > 0, interval, "add")
        assert took < interval

        await commands.pause(settings, first, names=names)
        await asyncio.sleep(interval)  # a poll in flight may finish
        count = server.requests[f"/feeds/{first}"]
        await asyncio.sleep(interval * 1.5)
        assert server.requests[f"/feeds/{first}"] == count  # paused: no more polls
        rows = {r["id"]: r for r in await commands.rows(settings, names)}
        assert rows[first]["state"] == "paused"

        await commands.remove(settings, added, names=names)
        await asyncio.sleep(interval)
        count = server.requests[f"/feeds/{added}"]
        await asyncio.sleep(interval * 1.5)
        assert server.requests[f"/feeds/{added}"] == count
        assert added not in {r["id"] for r in await commands.rows(settings, names)}

        # A 410 disables the feed; resume clears that and polls it at once. (The resume checks
        # allow half an interval more: the command's Kafka round trip on a loaded CI machine.)
        await commands.add(settings, server.url("test/status/410"), feed_id=gone, names=names)
        await until(lambda: server.requests.get("/test/status/410", 0) > 0, interval, "add 410")
        await asyncio.sleep(0.5)
        rows = {r["id"]: r for r in await commands.rows(settings, names)}
        assert rows[gone]["state"] == DISABLED
        before = server.requests["/test/status/410"]
        await commands.resume(settings, gone, names=names)
        await until(lambda: server.requests["/test/status/410"] > before, interval * 1.5, "resume")
        await commands.resume(settings, first, names=names)
        count = server.requests[f"/feeds/{first}"]
        await until(lambda: server.requests[f"/feeds/{first}"] > count, interval * 1.5, "resume")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    items = await produced(settings, names.raw)
    no_repeats(items)
    assert len(items) == 4


def start_poller(
    settings: Settings, names: FeedTopics, agent: str, log: Path
) -> subprocess.Popen[bytes]:
    config = {
        "settings": {
            "bootstrap_servers": settings.bootstrap_servers,
            "app_id": settings.app_id,
            "partitions": settings.partitions,
            "allow_private_hosts": True,
            "metrics_port": 0,
            "parse_processes": 1,
            "poll_interval_s": settings.poll_interval_s,
            "user_agent": agent,
        },
        "topics": {"raw": names.raw, "feeds": names.feeds, "state": names.state},
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.integration.poller_proc", json.dumps(config)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def test_two_pollers_split_the_feeds_and_take_over_after_kill_9(
    kafka_bootstrap: str, server: FeedServer, tmp_path: Path
) -> None:
    settings, names = setup(kafka_bootstrap, poll_interval_s=0.5, partitions=6)
    await ensure_topics(settings, names)
    ids = [uid(f"s{i}") for i in range(12)]
    served: dict[str, int] = {}
    for feed_id in ids:
        server.add_feed(feed_id, make_items(feed_id, 2))
        served[feed_id] = 2
    await write_feeds(settings, [(f, encode_feed(Feed(f, server.feed_url(f)))) for f in ids], names)
    procs = {
        agent: start_poller(settings, names, agent, tmp_path / f"{agent}.log")
        for agent in ("poller-A", "poller-B")
    }

    def pollers_of(since: float) -> dict[str, set[str]]:
        who: dict[str, set[str]] = {f: set() for f in ids}
        for moment, path, agent in server.log:
            feed_id = path.rsplit("/", 1)[-1]
            if moment >= since and feed_id in who:
                who[feed_id].add(agent)
        return who

    stop_adding = asyncio.Event()

    async def publish() -> None:  # new items keep arriving on every feed
        n = 0
        while not stop_adding.is_set():
            feed_id = ids[n % len(ids)]
            server.add_items(feed_id, make_items(feed_id, 1, start=served[feed_id]))
            served[feed_id] += 1
            n += 1
            await asyncio.sleep(0.05)

    adder = asyncio.create_task(publish())
    try:
        # Both joined and settled: in a 3 s window every feed is polled by exactly one of them.
        deadline = time.monotonic() + 60
        while True:
            window = time.time()
            await asyncio.sleep(3)
            who = pollers_of(window)
            if all(len(a) == 1 for a in who.values()) and len(set().union(*who.values())) == 2:
                break
            assert time.monotonic() < deadline, f"pollers never settled: {who}"
        owned_by_a = [f for f, agents in who.items() if agents == {"poller-A"}]
        assert 0 < len(owned_by_a) < len(ids)

        procs["poller-A"].send_signal(signal.SIGKILL)
        killed = time.time()
        procs["poller-A"].wait(10)

        def moved() -> bool:
            who = pollers_of(killed + 0.5)
            return all("poller-B" in who[f] for f in owned_by_a)

        took = await until(moved, 15, "poller-A's feeds moving to poller-B")
        assert took < 15
        print(
            f"kill -9: {len(owned_by_a)} feed(s) of poller-A polled by poller-B after {took:.1f}s"
        )
        await asyncio.sleep(1.5)
        stop_adding.set()
        await adder
        await asyncio.sleep(2.5)  # poller-B polls every feed once more (0.5 s interval)
    finally:
        stop_adding.set()
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if not adder.done():
            adder.cancel()
    items = await produced(settings, names.raw)
    no_repeats(items)
    by_feed = collections.Counter(str(i["feed"]) for i in items)
    assert by_feed == {f: served[f] for f in ids}, (tmp_path / "poller-B.log").read_text()[-3000:]


async def test_adaptive_schedule_through_the_registry(
    kafka_bootstrap: str, server: FeedServer
) -> None:
    """A feed-level adaptive schedule survives the trip through the registry topic."""
    settings, names = setup(kafka_bootstrap)
    name = uid("adaptive")
    server.add_feed(name, make_items(name, 3))
    feed = Feed(name, server.feed_url(name), schedule="adaptive", full_text="off")
    settings = replace(settings, poll_min_interval_s=120.0, poll_max_interval_s=7200.0)
    (o,) = await run_group(settings, [feed], names=names, once=True)
    # 3 new items this week → one poll per 7 days / 3, bounded to the maximum.
    assert o.new == 3 and 7200 * 0.94 < o.next_in_s < 7200 * 1.06


def test_feeds_cli(kafka_bootstrap: str, server: FeedServer, tmp_path: Path) -> None:
    """``news-streams feeds ...`` as a user types it (default topic names on the test broker)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update(NEWS_BOOTSTRAP_SERVERS=kafka_bootstrap, NEWS_PARTITIONS="3", PYTHONPATH=str(ROOT))
    feed_id = uid("cli")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "streams.cli", "feeds", *args],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    added = cli("add", server.feed_url("x"), "--id", feed_id, "--interval", "30", "--full-text")
    assert added.returncode == 0, added.stderr
    assert cli("pause", feed_id).returncode == 0
    listed = cli("list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["id"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert rows[feed_id]["state"] == "paused" and rows[feed_id]["interval_s"] == 30.0
    assert rows[feed_id]["full_text"] == "always"
    assert feed_id in cli("list").stdout
    assert cli("remove", feed_id).returncode == 0
    assert feed_id not in cli("list").stdout
    missing = cli("pause", feed_id)
    assert missing.returncode == 2 and "no feed" in missing.stderr
    assert cli("add").returncode == 2
    bad = cli("add", "ftp://x.org/feed")
    assert bad.returncode == 2 and "http(s)" in bad.stderr
