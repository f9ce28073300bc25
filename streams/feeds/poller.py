"""The polling loop: every enabled feed on its own schedule, items produced to ``news.raw``.

Design choices, each for a failure we want to survive:

- One task per due feed, bounded by a semaphore (``fetch_concurrency``): a slow feed delays
  nobody else, and a bad one only backs itself off (see :mod:`streams.feeds.schedule`).
- Producing goes through an injected ``send(topic, key, value)`` that completes when the record
  is acknowledged, so tests need no broker and a Kafka outage is just an error for that poll.
- Validators (ETag/Last-Modified) and the "already sent" memory are committed only after every
  item of the poll was acknowledged: a failed send means the next poll fetches and sends again
  instead of getting a 304 and losing the items.
- The "already sent" memory is a bounded LRU per feed of item id → content hash; an entry
  whose content changed is sent again (the worker dedups by text anyway; this saves traffic).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

import xxhash

from streams import topics
from streams.feeds.fetch import Fetcher, FetchError, FetchHTTPStatus, Validators
from streams.feeds.parse import ParseError, parse_feed
from streams.feeds.registry import Feed
from streams.feeds.schedule import next_poll_at
from streams.metrics import (
    FEED_CONSECUTIVE_ERRORS,
    FEED_FETCH_SECONDS,
    FEED_FETCHES,
    FEED_ITEMS,
    FEED_LAST_SUCCESS,
)
from streams.records import RawItem, encode
from streams.settings import Settings
from streams.times import now_iso

log = logging.getLogger(__name__)

Send = Callable[[str, bytes, bytes], Awaitable[object]]
"""``await send(topic, key, value)`` returns once the record is acknowledged (raises if not)."""

SEEN_PER_FEED = 5000
"""Item ids remembered per feed; far more than any feed lists at once."""


class SendError(Exception):
    """``send`` failed for at least one item of a poll; nothing of that poll is committed."""


class SeenItems:
    """Bounded LRU of item id → content hash for one feed."""

    def __init__(self, capacity: int = SEEN_PER_FEED) -> None:
        self.capacity = capacity
        self._items: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def is_new(self, item_id: str, digest: str) -> bool:
        return self._items.get(item_id) != digest

    def add(self, item_id: str, digest: str) -> None:
        self._items[item_id] = digest
        self._items.move_to_end(item_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def touch(self, item_id: str) -> None:
        if item_id in self._items:
            self._items.move_to_end(item_id)


@dataclass(slots=True)
class FeedState:
    feed: Feed
    next_at: float = 0.0
    errors: int = 0
    validators: Validators = field(default_factory=Validators)
    seen: SeenItems = field(default_factory=SeenItems)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll of one feed did (also the content of its log line)."""

    feed: str
    outcome: str
    """``ok``, ``not_modified`` or a failure label (``timeout``, ``parse``, ``send``, ...)."""
    new: int = 0
    seen: int = 0
    skipped: int = 0
    duration_s: float = 0.0
    next_in_s: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Poller:
    """Polls feeds forever (:meth:`run`) or once each (:meth:`poll_once`)."""

    def __init__(
        self,
        settings: Settings,
        feeds: Iterable[Feed],
        send: Send,
        *,
        fetcher: Fetcher | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        seen_capacity: int = SEEN_PER_FEED,
    ) -> None:
        self.settings = settings
        self.send = send
        self.clock = clock
        self.rand = rand
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher if fetcher is not None else Fetcher(settings)
        self._semaphore = asyncio.Semaphore(max(1, settings.fetch_concurrency))
        self.states: dict[str, FeedState] = {
            f.id: FeedState(f, seen=SeenItems(seen_capacity)) for f in feeds if f.enabled
        }

    async def __aenter__(self) -> Poller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_fetcher:
            await self.fetcher.aclose()

    async def poll_once(self) -> list[PollOutcome]:
        """Poll every enabled feed once, concurrently; never raises for a feed's failure."""
        return list(await asyncio.gather(*(self.poll(s) for s in self.states.values())))

    async def run(self) -> None:
        """Poll each feed whenever it is due, until cancelled."""
        wake = asyncio.Event()
        running: dict[str, asyncio.Task[PollOutcome]] = {}

        def finished(task: asyncio.Task[PollOutcome]) -> None:
            wake.set()

        try:
            while True:
                now = self.clock()
                for feed_id, state in self.states.items():
                    if feed_id not in running and state.next_at <= now:
                        task = asyncio.create_task(self.poll(state), name=f"poll:{feed_id}")
                        task.add_done_callback(finished)
                        running[feed_id] = task
                for feed_id in [k for k, t in running.items() if t.done()]:
                    running.pop(feed_id)
                idle = [s.next_at for k, s in self.states.items() if k not in running]
                delay = max(0.0, min(idle) - self.clock()) if idle else 3600.0
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=delay)
        finally:
            for task in running.values():
                task.cancel()
            await asyncio.gather(*running.values(), return_exceptions=True)

    async def poll(self, state: FeedState) -> PollOutcome:
        """Fetch, parse and produce one feed; update its schedule, metrics and log."""
        feed = state.feed
        async with self._semaphore:
            started = time.perf_counter()
            retry_after: float | None = None
            fetch_parse_s: float | None = None
            try:
                new, seen, skipped, label, fetch_parse_s = await self._poll(state, started)
                error = None
            except FetchError as exc:
                label, error = exc.reason, str(exc)
                if isinstance(exc, FetchHTTPStatus):
                    retry_after = exc.retry_after_s
            except ParseError as exc:
                label, error = "parse", str(exc)
            except SendError as exc:
                label, error = "send", str(exc)
            except Exception as exc:  # a bug must not kill the loop (CancelledError still does)
                label, error = "internal", f"{type(exc).__name__}: {exc}"
                log.exception("feed=%s unexpected error", feed.id)
            duration = time.perf_counter() - started

        now = self.clock()
        FEED_FETCHES.labels(feed.id, label).inc()
        # Fetch + parse only: a slow broker shows in the producer's metrics, not here.
        FEED_FETCH_SECONDS.observe(duration if fetch_parse_s is None else fetch_parse_s)
        if error is None:
            state.errors = 0
            FEED_ITEMS.labels(feed.id).inc(new)
            FEED_LAST_SUCCESS.labels(feed.id).set(now)
        else:
            state.errors += 1
            new = seen = skipped = 0
        FEED_CONSECUTIVE_ERRORS.labels(feed.id).set(state.errors)
        interval = feed.interval(self.settings.poll_interval_s)
        state.next_at = next_poll_at(
            now, interval, state.errors, retry_after_s=retry_after, rand=self.rand()
        )
        outcome = PollOutcome(
            feed=feed.id,
            outcome=label,
            new=new,
            seen=seen,
            skipped=skipped,
            duration_s=duration,
            next_in_s=state.next_at - now,
            error=error,
        )
        _log(outcome, state.errors)
        return outcome

    async def _poll(self, state: FeedState, started: float) -> tuple[int, int, int, str, float]:
        result = await self.fetcher.fetch(state.feed.url, state.validators)
        if result.not_modified:
            return 0, 0, 0, "not_modified", time.perf_counter() - started
        parsed = parse_feed(
            state.feed.id, result.body, headers=result.headers, url=result.url, fetched_at=now_iso()
        )
        fetch_parse_s = time.perf_counter() - started
        fresh: list[tuple[RawItem, str]] = []
        for item in parsed.items:
            digest = _digest(item)
            if state.seen.is_new(item["item_id"], digest):
                fresh.append((item, digest))
            else:
                state.seen.touch(item["item_id"])
        if fresh:
            try:
                await asyncio.gather(
                    *(
                        self.send(topics.RAW, item["item_id"].encode(), encode(item))
                        for item, _ in fresh
                    )
                )
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
                raise SendError(f"producing to {topics.RAW} failed: {reason}") from exc
        for item, digest in fresh:
            state.seen.add(item["item_id"], digest)
        state.validators = result.validators
        seen = len(parsed.items) - len(fresh)
        return len(fresh), seen, parsed.skipped, "ok", fetch_parse_s


def _digest(item: RawItem) -> str:
    return xxhash.xxh3_64_hexdigest(f"{item['title']}\x1f{item['content']}".encode())


def _log(o: PollOutcome, errors: int) -> None:
    if o.ok:
        log.info(
            "feed=%s status=%s new=%d seen=%d skipped=%d duration=%.3fs next_in=%.0fs",
            o.feed,
            o.outcome,
            o.new,
            o.seen,
            o.skipped,
            o.duration_s,
            o.next_in_s,
        )
    else:
        log.warning(
            "feed=%s status=%s errors=%d duration=%.3fs next_in=%.0fs error=%s",
            o.feed,
            o.outcome,
            errors,
            o.duration_s,
            o.next_in_s,
            o.error,
        )


async def run_poller(
    settings: Settings,
    feeds: Iterable[Feed],
    *,
    metrics_addr: str | None = None,
    on_outcome: Callable[[PollOutcome], object] | None = None,
) -> None:
    """Production wiring: aiokafka producer (idempotent, acks=all) + metrics/health endpoint.

    ``/metrics``, ``/healthz`` and ``/readyz`` share ``NEWS_METRICS_PORT`` on ``NEWS_BIND_HOST``
    (``streams.health``); ready once the producer is connected. ``on_outcome`` sees every
    poll's result (the live view of ``news-streams run`` shows feed health from it).
    """
    from aiokafka import AIOKafkaProducer  # imported here: tests of the Poller need no Kafka

    from streams.health import Health, serve
    from streams.kafka import check_connection, client_kwargs

    health = Health(["producer_connected"])
    server = None
    addr = metrics_addr or settings.bind_host
    if settings.metrics_port > 0:
        server = serve(health, settings.metrics_port, addr)
        log.info("poller metrics and health on http://%s:%d/", addr, settings.metrics_port)
    beat = asyncio.create_task(health.heartbeat())
    producer = None
    try:
        await check_connection(settings)  # wrong credentials: a clear error now, not a hang
        producer = AIOKafkaProducer(
            acks="all", linger_ms=5, enable_idempotence=True, **client_kwargs(settings)
        )
        await producer.start()
        health.set("producer_connected")

        async def send(topic: str, key: bytes, value: bytes) -> None:
            await producer.send_and_wait(topic, value=value, key=key)

        async with Poller(settings, feeds, send) as poller:
            if on_outcome is not None:
                poll = poller.poll

                async def observed(state: FeedState) -> PollOutcome:
                    outcome = await poll(state)
                    on_outcome(outcome)
                    return outcome

                poller.poll = observed  # type: ignore[method-assign]
            log.info("polling %d feed(s)", len(poller.states))
            await poller.run()
    finally:
        health.set("producer_connected", False)
        beat.cancel()
        if producer is not None:
            await producer.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
