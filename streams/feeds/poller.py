"""The polling loop: every tracked feed on its own schedule, new items committed with its state.

Design choices, each for a failure we want to survive:

- A due-time heap and a fixed set of worker tasks (``fetch_concurrency``): a wake-up costs
  O(log n), not a scan of every feed, and a poller that is behind works through due feeds in
  due order (the delay shows in ``news_feed_schedule_delay_seconds``).
- Fetching is async here; parsing runs in a process pool (:mod:`streams.feeds.parsepool`), so
  a 9 MB feed costs other feeds nothing on the event loop.
- Items and the feed's new state go out through one injected ``commit(feed_id, state, items)``
  that returns once both are durable. In production that is one Kafka transaction
  (:mod:`streams.feeds.group`); if it fails nothing of the poll is remembered, so the next poll
  fetches unconditionally and produces again instead of getting a 304 and losing items.
- Seen-item memory is sized to the feed (see :mod:`streams.feeds.state`); an item whose content
  changed is sent again (the worker dedups by text anyway).
- Permanent outcomes: a chain of 301/308 moves the stored URL, 410 disables the feed, N
  failures in a row make it ``failing`` (polled at the longest interval until it recovers).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import xxhash

from streams import topics
from streams.feeds.fetch import Fetcher, FetchError, FetchHTTPStatus, FetchResult, Validators
from streams.feeds.parse import ParseError, ParseResult
from streams.feeds.parsepool import ParsePool
from streams.feeds.registry import Feed
from streams.feeds.schedule import (
    ERROR_JITTER,
    adaptive_interval,
    next_delay,
    server_floor,
)
from streams.feeds.state import (
    ACTIVE,
    ARRIVALS_KEPT,
    DISABLED,
    FAILING,
    PAUSED,
    FeedState,
    seen_capacity,
)
from streams.metrics import (
    FEED_BYTES,
    FEED_CONSECUTIVE_ERRORS,
    FEED_ENTRIES,
    FEED_FETCH_SECONDS,
    FEED_FETCHES,
    FEED_HTTP_RESPONSES,
    FEED_ITEMS,
    FEED_LAST_SUCCESS,
    FEED_SCHEDULE_DELAY_SECONDS,
    FEED_SEEN_CAP_HITS,
    FEED_STATES,
    FEED_URL_UPDATES,
)
from streams.records import RawItem, encode
from streams.settings import Settings
from streams.times import now_iso

log = logging.getLogger(__name__)

Send = Callable[[str, bytes, bytes], Awaitable[object]]
"""``await send(topic, key, value)`` returns once the record is acknowledged (raises if not)."""
Commit = Callable[[str, FeedState, list[RawItem]], Awaitable[object]]
"""``await commit(feed_id, state, items)``: items and state durable together, or raise."""
Enrich = Callable[[Feed, list[RawItem]], Awaitable[list[RawItem]]]
"""Full text: replace summary-only items by their article page (see ``fulltext``)."""


COMMIT_OVERLAP = 4
"""Polls in flight per fetch slot (the rest wait for their Kafka transaction)."""


class SendError(Exception):
    """``commit`` failed for a poll; nothing of that poll is remembered."""


@dataclass(slots=True)
class _FeedMetrics:
    fetches: dict[str, Any]
    items: Any
    last_success: Any
    errors: Any
    fresh: bool = True


_CHILDREN: dict[tuple[object, ...], Any] = {}


def _child(metric: Any, *labels: str) -> Any:
    """``metric.labels(*labels)``, cached (label sets here are few and fixed)."""
    key = (metric, *labels)
    child = _CHILDREN.get(key)
    if child is None:
        child = _CHILDREN[key] = metric.labels(*labels)
    return child


@dataclass(slots=True)
class Tracked:
    """A feed this poller owns: its registry entry, its state, where it lives in Kafka."""

    feed: Feed
    state: FeedState
    partition: int = 0
    version: int = 0
    """Bumped on every (re)schedule: heap entries of older versions are stale."""
    busy: bool = False
    committed: tuple[object, ...] = field(default_factory=tuple)
    """``state.durable_view()`` as last committed: a poll writes state only when it changed."""
    metrics: _FeedMetrics | None = None

    @property
    def errors(self) -> int:
        return self.state.errors

    @property
    def next_at(self) -> float:
        return self.state.next_at

    @property
    def label(self) -> str:
        return PAUSED if not self.feed.enabled else self.state.status


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
    code: int | None = None
    status: str = ACTIVE

    @property
    def ok(self) -> bool:
        return self.error is None


class Poller:
    """Polls its tracked feeds forever (:meth:`run`) or once each (:meth:`poll_once`).

    Feeds come in through :meth:`upsert` / :meth:`remove` (the Kafka shell feeds it from the
    registry topic and restored state); ``feeds`` is a convenience for tests and ``--once``.
    Give either ``commit`` (atomic items + state) or ``send`` (items only, state in memory).
    """

    def __init__(
        self,
        settings: Settings,
        feeds: Iterable[Feed] = (),
        send: Send | None = None,
        *,
        commit: Commit | None = None,
        fetcher: Fetcher | None = None,
        parser: ParsePool | None = None,
        enrich: Enrich | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if commit is None:
            if send is None:
                raise ValueError("Poller needs commit or send")
            commit = _commit_via(send)
        self.settings = settings
        self.commit = commit
        self.enrich = enrich
        self.clock = clock
        self.rand = rand
        self._own_fetcher = fetcher is None
        self.fetcher = fetcher if fetcher is not None else Fetcher(settings)
        self._own_parser = parser is None
        self.parser = parser if parser is not None else ParsePool(settings.parse_processes)
        self._semaphore = asyncio.Semaphore(max(1, settings.fetch_concurrency))
        self.states: dict[str, Tracked] = {}
        self._heap: list[tuple[float, int, str, int]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        for feed in feeds:
            if feed.enabled:
                self.upsert(feed)

    async def __aenter__(self) -> Poller:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_fetcher:
            await self.fetcher.aclose()
        if self._own_parser:
            self.parser.close()

    # --- the tracked set ------------------------------------------------------------------

    def upsert(self, feed: Feed, state: FeedState | None = None, partition: int = 0) -> None:
        """Track ``feed`` (new, changed in the registry, or restored with its ``state``)."""
        old = self.states.get(feed.id)
        if old is not None:
            _child(FEED_STATES, old.label).dec()
            old.feed, old.partition = feed, partition
            if state is not None:
                old.state = state
                old.committed = state.durable_view()
            tracked = old
        else:
            state = state if state is not None else FeedState(feed.id)
            tracked = Tracked(feed, state, partition, committed=state.durable_view())
            self.states[feed.id] = tracked
        self._reconcile(tracked)
        _child(FEED_STATES, tracked.label).inc()
        tracked.version += 1
        if not tracked.busy:
            self._schedule(tracked)

    def remove(self, feed_id: str) -> Tracked | None:
        tracked = self.states.pop(feed_id, None)
        if tracked is not None:
            tracked.version += 1
            _child(FEED_STATES, tracked.label).dec()
        return tracked

    def remove_partitions(self, partitions: Iterable[int]) -> list[Tracked]:
        gone = set(partitions)
        return [
            t
            for t in [
                self.remove(fid) for fid, t in list(self.states.items()) if t.partition in gone
            ]
            if t is not None
        ]

    async def drain(self, tracked: Iterable[Tracked], timeout: float = 30.0) -> None:
        """Wait (bounded) until the polls of ``tracked`` feeds in progress have finished."""
        pending = [t for t in tracked if t.busy]
        deadline = time.monotonic() + timeout
        while any(t.busy for t in pending) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    def _reconcile(self, t: Tracked) -> None:
        """Apply registry changes to the state: a new URL, a resume token."""
        st = t.state
        if st.url and st.origin_url != t.feed.url:  # the operator changed the URL
            st = st.evolve(url=None, origin_url=None, etag=None, last_modified=None)
        if t.feed.token and t.feed.token != st.reset_token:
            if st.status != ACTIVE or st.errors:
                log.warning("feed=%s state %s -> %s (resumed)", t.feed.id, st.status, ACTIVE)
            st = st.evolve(status=ACTIVE, errors=0, reset_token=t.feed.token, next_at=0.0)
        t.state = st

    def _schedule(self, t: Tracked) -> None:
        if not t.feed.enabled or t.state.status == DISABLED:
            return
        heapq.heappush(self._heap, (t.state.next_at, next(self._seq), t.feed.id, t.version))
        self._wake.set()

    # --- running ---------------------------------------------------------------------------

    async def poll_once(self) -> list[PollOutcome]:
        """Poll every schedulable feed once, concurrently; never raises for a feed's failure."""
        due = [t for t in self.states.values() if t.feed.enabled and t.state.status != DISABLED]
        return list(await asyncio.gather(*(self.poll(t) for t in due)))

    async def run(self) -> None:
        """Poll each feed whenever it is due, until cancelled."""
        # More polls in flight than fetches: a poll waiting for its commit holds no fetch slot.
        workers = max(1, self.settings.fetch_concurrency) * COMMIT_OVERLAP
        queue: asyncio.Queue[tuple[Tracked, float]] = asyncio.Queue(maxsize=workers)
        tasks = [asyncio.create_task(self._worker(queue)) for _ in range(workers)]
        try:
            while True:
                now = self.clock()
                while self._heap and self._heap[0][0] <= now:
                    due, _, feed_id, version = heapq.heappop(self._heap)
                    t = self.states.get(feed_id)
                    if t is None or t.version != version or t.busy:
                        continue
                    t.busy = True
                    await queue.put((t, due))
                    now = self.clock()
                delay = self._heap[0][0] - now if self._heap else 3600.0
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=max(0.0, delay))
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _worker(self, queue: asyncio.Queue[tuple[Tracked, float]]) -> None:
        while True:
            t, due = await queue.get()
            if self.states.get(t.feed.id) is not t:
                t.busy = False
                continue
            if due > 0:  # 0: never polled (or just resumed), not a scheduled time
                FEED_SCHEDULE_DELAY_SECONDS.observe(max(0.0, self.clock() - due))
            await self.poll(t)

    async def poll(self, t: Tracked) -> PollOutcome:
        """Fetch, parse and commit one feed; update its schedule, metrics and log."""
        t.busy = True
        try:
            before = t.state
            outcome, state, committed = await self._poll(t, before)
            old_label = t.label
            if t.state is not before:  # the registry changed the feed meanwhile: keep that
                state = state.evolve(reset_token=t.state.reset_token)
            t.state = state
            if committed:
                t.committed = state.durable_view()
            self._reconcile(t)
            if self.states.get(t.feed.id) is t and old_label != t.label:
                _child(FEED_STATES, old_label).dec()
                _child(FEED_STATES, t.label).inc()
            return outcome
        finally:
            t.busy = False
            if self.states.get(t.feed.id) is t:
                t.version += 1
                self._schedule(t)

    async def _poll(self, t: Tracked, st: FeedState) -> tuple[PollOutcome, FeedState, bool]:
        feed = t.feed
        started = time.perf_counter()
        now = self.clock()
        url = st.url or feed.url
        fresh: list[RawItem] = []
        new = seen = skipped = 0
        code: int | None = None
        retry_after: float | None = None
        fetch_parse_s: float | None = None
        error: str | None = None
        changes: dict[str, object] = {}
        try:
            result, parsed = await self._fetch_parse(feed, url, st)
            code = result.status
            if result.permanent_url and result.permanent_url != url:
                changes.update(url=result.permanent_url, origin_url=feed.url)
            FEED_BYTES.inc(len(result.body))
            if parsed is None:
                label = "not_modified" if result.not_modified else "unchanged"
                ttl_s = st.ttl_s
                changes.update(
                    etag=result.etag or st.etag,
                    last_modified=result.last_modified or st.last_modified,
                )
            else:
                label, ttl_s = "ok", parsed.ttl_s
                fresh, seen_mem = self._fresh(st, parsed)
                new, seen, skipped = len(fresh), len(parsed.items) - len(fresh), parsed.skipped
                changes.update(
                    etag=result.etag,
                    last_modified=result.last_modified,
                    seen=seen_mem,
                    ttl_s=ttl_s,
                    body_hash=_body_hash(result.body),
                )
                if fresh:
                    arrivals = [*st.arrivals, (now, len(fresh))][-ARRIVALS_KEPT:]
                    changes["arrivals"] = arrivals
            fetch_parse_s = time.perf_counter() - started
            changes.update(
                errors=0,
                status=ACTIVE,
                last_error=None,
                last_success_at=now,
                floor_s=server_floor(dict(result.headers), ttl_s, now),
            )
        except FetchError as exc:
            label, error = exc.reason, str(exc)
            if isinstance(exc, FetchHTTPStatus):
                code, retry_after = exc.status, exc.retry_after_s
                if code == 410:
                    label = "gone"
        except ParseError as exc:
            label, error = "parse", str(exc)
        except Exception as exc:  # a bug must not kill the loop (CancelledError still does)
            label, error = "internal", f"{type(exc).__name__}: {exc}"
            log.exception("feed=%s unexpected error", feed.id)
        if code is not None:
            _child(FEED_HTTP_RESPONSES, f"{code // 100}xx", str(code)).inc()

        if error is not None:
            errors = st.errors + 1
            status = st.status if st.status != ACTIVE else ACTIVE
            if code == 410:
                status = DISABLED
            elif errors >= self.settings.poll_failing_after:
                status = FAILING
            changes.update(errors=errors, status=status, last_error=error)
        changes.update(last_outcome=label, last_code=code, last_poll_at=now)
        state = st.evolve(**changes)
        state.next_at = now + self._delay(feed, state, now, retry_after)

        if fresh and self.enrich is not None:
            fresh = await self.enrich(feed, fresh)
        committed = False
        if fresh or state.durable_view() != t.committed:
            try:
                await self.commit(feed.id, state, fresh)
                committed = True
            except Exception as exc:
                label = "send"
                error = f"committing to {topics.RAW} failed: {type(exc).__name__}: {exc}"
                errors = st.errors + 1
                state = st.evolve(errors=errors, last_outcome=label, last_error=error)
                state.next_at = now + self._delay(feed, state, now, None)
                fresh, new, seen, skipped = [], 0, 0, 0
        duration = time.perf_counter() - started
        self._account(t, st, state, label, new, seen, now, fetch_parse_s, duration)
        outcome = PollOutcome(
            feed=feed.id,
            outcome=label,
            new=new,
            seen=seen,
            skipped=skipped,
            duration_s=duration,
            next_in_s=state.next_at - now,
            error=error,
            code=code,
            status=state.status,
        )
        _log(outcome, state.errors)
        return outcome, state, committed

    async def _fetch_parse(
        self, feed: Feed, url: str, st: FeedState
    ) -> tuple[FetchResult, ParseResult | None]:
        # The slot covers the fetch only: waiting for a parse process or for the commit
        # must not keep other feeds' conditional GETs from going out.
        async with self._semaphore:
            result = await self.fetcher.fetch(url, Validators(st.etag, st.last_modified))
        if result.not_modified or (st.body_hash and _body_hash(result.body) == st.body_hash):
            return result, None
        parsed = await self.parser.parse(
            feed.id, result.body, headers=result.headers, url=result.url, fetched_at=now_iso()
        )
        return result, parsed

    def _fresh(self, st: FeedState, parsed: ParseResult) -> tuple[list[RawItem], object]:
        """New or edited items of a parse (each once), and the updated seen memory."""
        fresh: list[RawItem] = []
        listed: list[tuple[str, int]] = []
        in_poll: set[str] = set()
        for item, digest in zip(parsed.items, parsed.digests, strict=True):
            item_id = item["item_id"]
            listed.append((item_id, digest))
            if item_id not in in_poll and st.seen.is_new(item_id, digest):
                fresh.append(item)
            in_poll.add(item_id)
        cap = self.settings.feed_seen_max
        if len(in_poll) > cap:
            FEED_SEEN_CAP_HITS.inc()
            log.warning(
                "feed=%s lists %d items, more than NEWS_FEED_SEEN_MAX=%d: older ones may be "
                "sent again",
                st.feed_id,
                len(in_poll),
                cap,
            )
        memory = st.seen.copy()
        # Feed order is newest first: remember oldest first so the newest end up most recent.
        memory.remember(reversed(listed), seen_capacity(len(in_poll), cap))
        _child(FEED_ENTRIES, "new").inc(len(fresh))
        _child(FEED_ENTRIES, "seen").inc(len(parsed.items) - len(fresh))
        return fresh, memory

    def _delay(self, feed: Feed, state: FeedState, now: float, retry_after: float | None) -> float:
        s = self.settings
        if (feed.schedule or s.poll_schedule) == "adaptive":
            interval = adaptive_interval(
                state.arrivals, now, s.poll_min_interval_s, s.poll_max_interval_s
            )
        else:
            interval = feed.interval(s.poll_interval_s)
        rand = self.rand()
        if state.status == FAILING:
            top = max(interval, s.poll_max_interval_s)
            return top * (1.0 + ERROR_JITTER * (2.0 * rand - 1.0))
        delay = next_delay(
            interval,
            state.errors,
            retry_after_s=retry_after,
            rand=rand,
            max_backoff_s=s.poll_max_interval_s,
        )
        return max(delay, state.floor_s) if state.errors == 0 else delay

    def _account(
        self,
        t: Tracked,
        before: FeedState,
        after: FeedState,
        label: str,
        new: int,
        seen: int,
        now: float,
        fetch_parse_s: float | None,
        duration: float,
    ) -> None:
        feed_id = t.feed.id
        m = t.metrics
        if m is None:  # per-feed children looked up once: labels() is a visible cost at 300/s
            m = t.metrics = _FeedMetrics(
                {},
                FEED_ITEMS.labels(feed_id),
                FEED_LAST_SUCCESS.labels(feed_id),
                FEED_CONSECUTIVE_ERRORS.labels(feed_id),
            )
        fetches = m.fetches.get(label)
        if fetches is None:
            fetches = m.fetches[label] = FEED_FETCHES.labels(feed_id, label)
        fetches.inc()
        # Fetch + parse only: a slow broker shows in the commit metrics, not here.
        FEED_FETCH_SECONDS.observe(duration if fetch_parse_s is None else fetch_parse_s)
        if after.errors == 0:
            if new:
                m.items.inc(new)
            m.last_success.set(now)
        if after.errors or before.errors or m.fresh:
            m.errors.set(after.errors)
            m.fresh = False
        if after.url != before.url and after.url:
            FEED_URL_UPDATES.inc()
            log.warning(
                "feed=%s moved permanently: %s -> %s (stored)", feed_id, before.url or t.feed.url,
                after.url,
            )  # fmt: skip
        if after.status != before.status:
            log.warning(
                "feed=%s state %s -> %s after %s (%d error(s) in a row)%s",
                feed_id,
                before.status,
                after.status,
                label,
                after.errors,
                f": {after.last_error}" if after.last_error else "",
            )
        elif before.errors == 0 and after.errors > 0:
            log.warning("feed=%s failing poll: %s", feed_id, after.last_error)
        elif before.errors > 0 and after.errors == 0:
            log.warning("feed=%s recovered after %d failed poll(s)", feed_id, before.errors)


def _body_hash(body: bytes) -> str:
    return xxhash.xxh3_64_hexdigest(body)


def _commit_via(send: Send) -> Commit:
    """Items through ``send`` (concurrently), state kept in memory only (tests, ``--once``)."""

    async def commit(feed_id: str, state: FeedState, items: list[RawItem]) -> None:
        if items:
            await asyncio.gather(
                *(send(topics.RAW, item["item_id"].encode(), encode(item)) for item in items)
            )

    return commit


def _log(o: PollOutcome, errors: int) -> None:
    if o.ok:
        level = logging.INFO if o.new else logging.DEBUG
        log.log(
            level,
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
        log.info(
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
    """Production wiring: see :func:`streams.feeds.group.run_group`."""
    from streams.feeds.group import run_group

    await run_group(settings, list(feeds), metrics_addr=metrics_addr, on_outcome=on_outcome)
