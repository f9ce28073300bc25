"""The poller's Kafka shell: which feeds this process polls, their durable state, atomic commits.

- ``news.feeds`` (compacted, key = feed id) is the live registry. Poller processes form one
  consumer group on it (``<NEWS_APP_ID>-poller``); each polls exactly the feeds of the
  partitions it is assigned. No offsets are ever committed: on assignment a partition is read
  from the beginning (a table restore), then followed for live ``feeds add/pause/...``.
- ``news.feeds.state`` (compacted, co-partitioned with ``news.feeds``) holds each feed's
  :class:`~streams.feeds.state.FeedState`. Partition *p*'s state is written only by the
  transactional producer ``<app>-poller-<state topic>-<p>``; a new owner of *p* first
  initialises that transactional id (fencing the previous owner and aborting its open
  transaction), then restores the state with ``read_committed`` up to the last stable offset.
- Each poll's new items (to ``news.raw``) and the feed's new state go in ONE transaction, so
  after any crash the state says exactly which items were produced: nothing is produced twice
  for ``read_committed`` consumers, nothing is lost. Commits of one partition are batched
  (group commit) so a transaction's round trips are shared by every poll that finished
  meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener
from aiokafka.errors import ProducerFenced
from aiokafka.partitioner import murmur2
from aiokafka.structs import ConsumerRecord, TopicPartition

from streams import topics
from streams.admin import create_topics
from streams.feeds.fetch import Fetcher
from streams.feeds.parsepool import ParsePool
from streams.feeds.poller import Poller, PollOutcome, SendError
from streams.feeds.registry import Feed, RegistryError, decode_feed, encode_feed
from streams.feeds.state import FeedState
from streams.kafka import check_connection, client_kwargs, compression_type
from streams.metrics import FEED_COMMIT_SECONDS, FEED_STATE_COMMITS
from streams.records import RawItem, encode
from streams.settings import Settings

log = logging.getLogger(__name__)

MAX_RECORD_BYTES = 8 * 1024 * 1024
"""Largest state record (a 25,000-item seen memory is ~670 KB) and producer request."""
COMPACTED = {
    "cleanup.policy": "compact",
    "max.message.bytes": str(MAX_RECORD_BYTES),
    "min.compaction.lag.ms": "60000",
}
RESTORE_TIMEOUT_S = 120.0
MAX_ITEM_BYTES = 4 * 1024 * 1024
"""Default largest raw record (``NEWS_MAX_RECORD_BYTES``). One record over the topic's limit
would fail the whole transaction, and with it every poll committed together."""


@dataclass(frozen=True, slots=True)
class FeedTopics:
    """Topic names the poller uses (tests give each run its own)."""

    raw: str = topics.RAW
    feeds: str = topics.FEEDS
    state: str = topics.FEEDS_STATE


DEFAULT_TOPICS = FeedTopics()


def partition_for(feed_id: str, partitions: int) -> int:
    """Kafka's default partitioner (murmur2 of the key), as the registry producer uses."""
    return (murmur2(feed_id.encode()) & 0x7FFFFFFF) % partitions


async def ensure_topics(settings: Settings, names: FeedTopics = DEFAULT_TOPICS) -> None:
    """Create the raw topic and the two compacted poller topics (same partition count)."""
    partitions, replicas = settings.partitions, settings.replication_factor
    raw_limit = {"max.message.bytes": str(settings.max_record_bytes + 64 * 1024)}
    await create_topics(
        settings, [names.raw], partitions=partitions, replication_factor=replicas,
        configs=raw_limit,
    )  # fmt: skip
    await create_topics(
        settings,
        [names.feeds, names.state],
        partitions=partitions,
        replication_factor=replicas,
        configs=COMPACTED,
    )


async def read_partitions(
    settings: Settings, tps: Sequence[TopicPartition], timeout: float = RESTORE_TIMEOUT_S
) -> tuple[dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]], dict[TopicPartition, int]]:
    """Every committed record of ``tps`` from the beginning to the current end (a restore)."""
    out: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {tp: [] for tp in tps}
    if not tps:
        return out, {}
    consumer = AIOKafkaConsumer(
        **client_kwargs(settings),
        group_id=None,
        enable_auto_commit=False,
        # "earliest" also for the initial reset: a "latest" reset racing seek_to_beginning
        # could otherwise win and skip the whole partition.
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 * MAX_RECORD_BYTES,
        fetch_max_bytes=16 * MAX_RECORD_BYTES,
    )
    await consumer.start()
    try:
        consumer.assign(list(tps))
        end = await consumer.end_offsets(list(tps))
        await consumer.seek_to_beginning(*tps)
        deadline = time.monotonic() + timeout
        remaining = {tp for tp in tps if end[tp] > 0}
        while remaining:
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
            if not remaining:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"restoring {sorted(map(str, remaining))} took over {timeout}s")
            batch = await consumer.getmany(*remaining, timeout_ms=200)
            for tp, records in batch.items():
                out[tp].extend(r for r in records if r.offset < end[tp])
        return out, end
    finally:
        await consumer.stop()


def latest(records: Iterable[ConsumerRecord[bytes, bytes]]) -> dict[str, bytes | None]:
    """Compacted-topic semantics: the last value per key."""
    table: dict[str, bytes | None] = {}
    for record in records:
        if record.key is not None:
            table[record.key.decode()] = record.value
    return table


async def read_registry(
    settings: Settings, names: FeedTopics = DEFAULT_TOPICS
) -> tuple[dict[str, tuple[int, Feed | None]], dict[str, FeedState]]:
    """The whole registry (id → (partition, feed or None if removed)) and every feed state."""
    consumer = AIOKafkaConsumer(**client_kwargs(settings), group_id=None)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        feed_parts = cluster.partitions_for_topic(names.feeds) or set()
        state_parts = cluster.partitions_for_topic(names.state) or set()
    finally:
        await consumer.stop()
    tps = [TopicPartition(names.feeds, p) for p in sorted(feed_parts)]
    tps += [TopicPartition(names.state, p) for p in sorted(state_parts)]
    records, _ = await read_partitions(settings, tps)
    feeds: dict[str, tuple[int, Feed | None]] = {}
    states: dict[str, FeedState] = {}
    for tp, recs in records.items():
        for key, value in latest(recs).items():
            if tp.topic == names.feeds:
                try:
                    feeds[key] = (tp.partition, decode_feed(key, value))
                except RegistryError as exc:
                    log.error("%s", exc)
            elif value is not None:
                states[key] = FeedState.from_json(value)
    return feeds, states


async def write_feeds(
    settings: Settings, records: Iterable[tuple[str, bytes]], names: FeedTopics = DEFAULT_TOPICS
) -> None:
    """Produce registry records (feed id, value) and wait for them."""
    producer = AIOKafkaProducer(
        **client_kwargs(settings),
        acks="all",
        enable_idempotence=True,
        compression_type=compression_type(settings),
    )
    await producer.start()
    try:
        futures = [
            await producer.send(names.feeds, value, key=feed_id.encode())
            for feed_id, value in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def bootstrap_registry(
    settings: Settings, feeds: Sequence[Feed], names: FeedTopics = DEFAULT_TOPICS
) -> list[str]:
    """Bring the registry in line with the feeds file; return the ids written.

    A feed the registry has never seen is added; one whose URL, interval, full-text or schedule
    changed in the file is updated (keeping a ``feeds pause`` made at runtime); a feed removed
    with ``feeds remove`` stays removed (logged) until re-added by command.
    """
    known, _ = await read_registry(settings, names)
    writes: list[Feed] = []
    for feed in feeds:
        if feed.id not in known:
            writes.append(feed)
            continue
        current = known[feed.id][1]
        if current is None:
            log.info("registry: feed %s was removed by command; the feeds file does not re-add it",
                     feed.id)  # fmt: skip
            continue
        wanted = replace(feed, enabled=current.enabled, token=current.token)
        if wanted != current:
            writes.append(wanted)
    if writes:
        await write_feeds(settings, [(f.id, encode_feed(f)) for f in writes], names)
        log.info("registry: %d feed(s) added or updated from the feeds file", len(writes))
    return [f.id for f in writes]


def fit(item: RawItem, limit: int = MAX_ITEM_BYTES) -> bytes:
    """The item's record, its content truncated if the record would exceed ``limit``."""
    data = encode(item)
    if len(data) <= limit:
        return data
    excess = len(data) - limit
    content = item["content"].encode()[: max(0, len(item["content"].encode()) - excess - 64)]
    log.warning(
        "item %s of feed %s is %d bytes: content truncated to fit %d",
        item["item_id"], item["feed"], len(data), limit,
    )  # fmt: skip
    return encode({**item, "content": content.decode("utf-8", "ignore")})


class PartitionCommitter:
    """The transactional producer of one state partition, with group commit."""

    def __init__(self, settings: Settings, names: FeedTopics, partition: int) -> None:
        self.names = names
        self.partition = partition
        self.fenced = False
        self.max_item_bytes = settings.max_record_bytes
        self.producer = AIOKafkaProducer(
            **client_kwargs(settings),
            transactional_id=f"{settings.app_id}-poller-{names.state}-{partition}",
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_request_size=max(MAX_RECORD_BYTES, settings.max_record_bytes + 64 * 1024),
            compression_type=compression_type(settings),
            # aiokafka's 16 KB default batch means one round trip per ~30 items per partition
            # (idempotence allows one request in flight): a group commit of many polls crawls.
            max_batch_size=1_048_576,
        )
        self._pending: list[tuple[str, FeedState, list[RawItem], asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Initialise the transactional id: fences the previous owner, aborts its transaction."""
        await self.producer.start()
        self._task = asyncio.create_task(self._loop(), name=f"commit:{self.partition}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for *_, future in self._pending:
            if not future.done():
                future.set_exception(SendError("partition revoked"))
        self._pending = []
        with contextlib.suppress(Exception):
            await self.producer.stop()

    async def commit(self, feed_id: str, state: FeedState, items: list[RawItem]) -> None:
        if self.fenced:
            raise SendError(f"partition {self.partition}: fenced by a newer owner")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((feed_id, state, items, future))
        self._wake.set()
        await future

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            try:
                async with self.producer.transaction():
                    sent = []
                    for feed_id, state, items, _ in batch:
                        for item in items:
                            sent.append(
                                await self.producer.send(
                                    self.names.raw,
                                    fit(item, self.max_item_bytes),
                                    key=item["item_id"].encode(),
                                )
                            )
                            sent[-1].add_done_callback(_retrieved)
                        sent.append(
                            await self.producer.send(
                                self.names.state,
                                state.to_json(),
                                key=feed_id.encode(),
                                partition=self.partition,
                            )
                        )
                        sent[-1].add_done_callback(_retrieved)
                    results = await asyncio.gather(*sent, return_exceptions=True)
                    failed = next((r for r in results if isinstance(r, BaseException)), None)
                    if failed is not None:
                        raise failed
            except Exception as exc:
                FEED_STATE_COMMITS.labels("error").inc()
                for *_, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, ProducerFenced):
                    self.fenced = True
                    log.warning("partition %d: fenced by a newer owner", self.partition)
                    return
                continue
            FEED_STATE_COMMITS.labels("ok").inc()
            for *_, future in batch:
                if not future.done():
                    future.set_result(None)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a send's failure as seen: the transaction's own error reports it once."""
    if not future.cancelled():
        future.exception()


class FeedGroup(ConsumerRebalanceListener):
    """Group membership on ``news.feeds``: restore on assignment, follow registry changes."""

    def __init__(self, settings: Settings, poller: Poller, names: FeedTopics) -> None:
        self.settings = settings
        self.poller = poller
        self.names = names
        self.committers: dict[int, PartitionCommitter] = {}
        self.ready = asyncio.Event()
        session_ms = int(settings.poller_session_timeout_s * 1000)
        self.consumer = AIOKafkaConsumer(
            **client_kwargs(settings),
            group_id=f"{settings.app_id}-poller",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            session_timeout_ms=session_ms,
            heartbeat_interval_ms=max(100, session_ms // 6),
            rebalance_timeout_ms=max(session_ms, 60_000),
        )

    async def commit(self, feed_id: str, state: FeedState, items: list[RawItem]) -> None:
        """The Poller's commit: through the transactional producer of the feed's partition."""
        tracked = self.poller.states.get(feed_id)
        committer = self.committers.get(tracked.partition) if tracked else None
        if committer is None:
            raise SendError(f"feed {feed_id} is not owned by this poller any more")
        started = time.perf_counter()
        try:
            await committer.commit(feed_id, state, items)
            FEED_COMMIT_SECONDS.observe(time.perf_counter() - started)
        finally:
            if committer.fenced and self.committers.get(committer.partition) is committer:
                self._drop([committer.partition])

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.subscribe([self.names.feeds], listener=self)

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.consumer.stop()  # leaves the group: the others rebalance at once
        for committer in list(self.committers.values()):
            await committer.stop()
        self.committers.clear()

    def owned(self) -> list[int]:
        return sorted(self.committers)

    def _drop(self, partitions: Iterable[int]) -> list[Any]:
        parts = list(partitions)
        gone = self.poller.remove_partitions(parts)
        for p in parts:
            committer = self.committers.pop(p, None)
            if committer is not None:
                asyncio.get_running_loop().create_task(committer.stop())
        return gone

    async def on_partitions_revoked(self, revoked: Any) -> None:
        # Eager rebalancing revokes everything; partitions kept are not re-restored, those
        # lost are dropped in on_partitions_assigned. Polls of a lost partition meanwhile are
        # safe: the new owner's transactional producer fences ours before it reads the state.
        log.debug("revoked %s", sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        parts = {tp.partition for tp in assigned if tp.topic == self.names.feeds}
        lost = [p for p in self.committers if p not in parts]
        if lost:
            gone = self._drop(lost)
            await self.poller.drain(gone, timeout=5.0)
        new = sorted(p for p in parts if p not in self.committers)
        if new:
            started = time.monotonic()
            committers = {p: PartitionCommitter(self.settings, self.names, p) for p in new}
            await asyncio.gather(*(c.start() for c in committers.values()))
            tps = [TopicPartition(self.names.feeds, p) for p in new]
            tps += [TopicPartition(self.names.state, p) for p in new]
            records, end = await read_partitions(self.settings, tps)
            log.debug("restore end offsets %s", end)
            count = 0
            for p in new:
                feeds = latest(records[TopicPartition(self.names.feeds, p)])
                states = latest(records[TopicPartition(self.names.state, p)])
                for n, (feed_id, value) in enumerate(feeds.items()):
                    if n % 500 == 499:  # let heartbeats and polls run during a big restore
                        await asyncio.sleep(0)
                    feed = self._decode(feed_id, value)
                    if feed is None:
                        continue
                    raw_state = states.get(feed_id)
                    state = FeedState.from_json(raw_state) if raw_state else None
                    self.poller.upsert(feed, state, p)
                    count += 1
                self.committers[p] = committers[p]
                self.consumer.seek(TopicPartition(self.names.feeds, p), end.get(
                    TopicPartition(self.names.feeds, p), 0))  # fmt: skip
            log.info(
                "assigned partition(s) %s: restored %d feed(s) with state in %.2fs",
                new,
                count,
                time.monotonic() - started,
            )
        log.info("polling %d feed(s) of partition(s) %s", len(self.poller.states), self.owned())
        if parts:  # an assignment before the topic's metadata is known can be empty
            self.ready.set()

    def _decode(self, feed_id: str, value: bytes | None) -> Feed | None:
        try:
            return decode_feed(feed_id, value)
        except RegistryError as exc:
            log.error("%s (ignored)", exc)
            return None

    async def follow(self) -> None:
        """Apply registry changes of owned partitions as they arrive (until cancelled)."""
        while True:
            batch = await self.consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                if tp.partition not in self.committers:
                    continue
                for record in records:
                    if record.key is None:
                        continue
                    feed_id = record.key.decode()
                    feed = self._decode(feed_id, record.value)
                    if feed is None:
                        if self.poller.remove(feed_id) is not None:
                            log.warning("feed=%s removed from the registry", feed_id)
                        continue
                    known = self.poller.states.get(feed_id)
                    if known is None or known.feed != feed:
                        log.warning("feed=%s registry update: %s", feed_id, _describe(feed))
                        self.poller.upsert(feed, None, tp.partition)


def _describe(feed: Feed) -> str:
    return (
        f"url={feed.url} enabled={feed.enabled} interval_s={feed.interval_s} "
        f"full_text={feed.full_text} schedule={feed.schedule}"
    )


async def run_group(
    settings: Settings,
    bootstrap_feeds: Sequence[Feed] = (),
    *,
    names: FeedTopics = DEFAULT_TOPICS,
    metrics_addr: str | None = None,
    once: bool = False,
    fetcher: Fetcher | None = None,
    on_outcome: Callable[[PollOutcome], object] | None = None,
) -> list[PollOutcome]:
    """A poller process: join the group, restore, poll owned feeds forever (or ``once``).

    ``/metrics``, ``/healthz`` and ``/readyz`` share ``NEWS_METRICS_PORT`` on ``NEWS_BIND_HOST``
    (``streams.health``); ready once partitions are assigned and restored. ``on_outcome`` sees
    every poll's result (the live view of ``news-streams run`` shows feed health from it).
    """
    from streams.health import Health, serve

    health = Health(["partitions_restored"])
    server = None
    addr = metrics_addr or settings.bind_host
    if settings.metrics_port > 0 and not once:
        server = serve(health, settings.metrics_port, addr)
        log.info("poller metrics and health on http://%s:%d/", addr, settings.metrics_port)
    beat = asyncio.create_task(health.heartbeat())
    try:
        await check_connection(settings)  # wrong credentials: a clear error now, not a hang
        return await _run_group(settings, bootstrap_feeds, names, once, fetcher, on_outcome, health)
    finally:
        health.set("partitions_restored", False)
        beat.cancel()
        if server is not None:
            server.shutdown()
            server.server_close()


async def _run_group(
    settings: Settings,
    bootstrap_feeds: Sequence[Feed],
    names: FeedTopics,
    once: bool,
    fetcher: Fetcher | None,
    on_outcome: Callable[[PollOutcome], object] | None,
    health: Any,
) -> list[PollOutcome]:
    from streams.feeds.fulltext import FullText

    await ensure_topics(settings, names)
    if bootstrap_feeds:
        await bootstrap_registry(settings, bootstrap_feeds, names)
    own_fetcher = fetcher is None
    fetch = fetcher if fetcher is not None else Fetcher(settings)
    parser = ParsePool(settings.parse_processes)
    fulltext = FullText(settings, fetch)
    group: FeedGroup | None = None
    poller = Poller(
        settings,
        commit=lambda *a: _call(group, *a),
        fetcher=fetch,
        parser=parser,
        enrich=fulltext.enrich,
    )
    if on_outcome is not None:
        poll = poller.poll

        async def observed(tracked: Any) -> PollOutcome:
            outcome = await poll(tracked)
            on_outcome(outcome)
            return outcome

        poller.poll = observed  # type: ignore[method-assign,assignment]
    group = FeedGroup(settings, poller, names)
    follow: asyncio.Task[None] | None = None
    run: asyncio.Task[None] | None = None
    ready: asyncio.Task[None] | None = None
    try:
        await group.start()
        follow = asyncio.create_task(group.follow(), name="registry")
        ready = asyncio.create_task(_mark_ready(group, health))
        if once:
            await _first_assignment(group, follow)
            return await poller.poll_once()
        run = asyncio.create_task(poller.run(), name="poll")
        done, _ = await asyncio.wait({run, follow}, return_when=asyncio.FIRST_COMPLETED)
        for finished in done:
            finished.result()
        return []
    finally:
        deadline = time.monotonic() + settings.shutdown_timeout_s
        for task in (run, follow, ready):  # stop polling before the clients below are closed
            if task is not None:
                task.cancel()
                await _bounded(task.get_name(), task, deadline, quiet=True)
        await _bounded("the Kafka clients", group.stop(), deadline)
        await _bounded("the poller", poller.aclose(), deadline)
        parser.close()
        if own_fetcher:
            await _bounded("the HTTP client", fetch.aclose(), deadline)


async def _bounded(
    what: str, step: Awaitable[object], deadline: float, *, quiet: bool = False
) -> None:
    """One shutdown step, awaited until ``deadline`` at most (``NEWS_SHUTDOWN_TIMEOUT_S`` for
    all of them): a poller asked to stop must exit even if a Kafka close hangs. A step left
    behind loses nothing: what was not committed is polled again by the partition's next owner.
    ``quiet``: its errors are not raised (a cancelled loop's last error is no shutdown error).
    """
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=max(0.0, deadline - time.monotonic()))
    if not done:
        log.warning("shutdown: %s did not stop in time; going on without it", what)
        task.cancel()
        return
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not quiet:
        raise exc


async def _mark_ready(group: FeedGroup, health: Any) -> None:
    await group.ready.wait()
    health.set("partitions_restored")


async def _call(
    group: FeedGroup | None, feed_id: str, state: FeedState, items: list[RawItem]
) -> None:
    if group is None:
        raise SendError("poller group not started")
    await group.commit(feed_id, state, items)


async def _first_assignment(group: FeedGroup, follow: asyncio.Task[None]) -> None:
    waiter = asyncio.create_task(group.ready.wait())
    done, _ = await asyncio.wait({waiter, follow}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
    if follow in done:
        waiter.cancel()
        follow.result()
    if waiter not in done:
        waiter.cancel()
        log.warning("no partitions assigned to this poller within 60 s: nothing to poll")
