"""The live view of ``news-streams run``: what flows on ``news.events``, and why it may not.

Reads the events topic with a plain aiokafka consumer (as any downstream team would), the
worker's ``/metrics`` for what does not show on the topic (duplicates dropped, dead letters),
and the in-process poller's outcomes for feed health (:class:`FeedBoard`).

The same :class:`LiveStats` feeds both renderings: a full screen on a terminal
(:meth:`LiveStats.render`) and, when stdout is a pipe or a file, a compact multi-line summary
every few seconds (:meth:`LiveStats.summary`) with the same facts.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams import topics
from streams.settings import Settings

CLEAR = "\x1b[H\x1b[2J"

PRIVATE_HINT = (
    "feeds on 127.0.0.1 or a private network are refused (SSRF guard): "
    "set NEWS_ALLOW_PRIVATE_HOSTS=1 to poll them"
)


@dataclass
class FeedState:
    """What the view knows of one feed: its last poll and the last error it had."""

    feed: str
    outcome: str = "pending"
    errors: int = 0
    polls: int = 0
    items: int = 0
    last_error: str | None = None
    at: float = 0.0

    @property
    def failing(self) -> bool:
        return self.errors > 0


class FeedBoard:
    """Per-feed health from the poller's outcomes (``PollOutcome``-like objects)."""

    def __init__(self, feed_ids: list[str] | None = None) -> None:
        self.feeds: dict[str, FeedState] = {f: FeedState(f) for f in feed_ids or []}

    def record(self, outcome: Any) -> None:
        """Take one poll result (``feed``, ``outcome``, ``new``, ``error`` attributes)."""
        state = self.feeds.setdefault(outcome.feed, FeedState(outcome.feed))
        state.outcome = outcome.outcome
        state.polls += 1
        state.at = time.monotonic()
        if getattr(outcome, "error", None):
            state.errors += 1
            state.last_error = str(outcome.error)
        else:
            state.errors = 0
            state.items += int(getattr(outcome, "new", 0) or 0)

    def ordered(self) -> list[FeedState]:
        """Refused feeds first, then other failing ones, then the rest (by name)."""

        def rank(s: FeedState) -> tuple[int, str]:
            if s.outcome == "refused":
                return 0, s.feed
            return (1 if s.failing else 2), s.feed

        return sorted(self.feeds.values(), key=rank)

    def counts(self) -> tuple[int, int, int]:
        """(feeds whose last poll worked, feeds whose last poll failed, feeds not polled yet)."""
        failing = sum(1 for s in self.feeds.values() if s.failing)
        pending = sum(1 for s in self.feeds.values() if s.polls == 0)
        return len(self.feeds) - failing - pending, failing, pending

    def any_refused(self) -> bool:
        return any(s.outcome == "refused" for s in self.feeds.values())


@dataclass
class LiveStats:
    """Counters the view shows; updated per event, rendered once a second."""

    started: float = field(default_factory=time.monotonic)
    events: int = 0
    by_kind: collections.Counter[str] = field(default_factory=collections.Counter)
    tags: collections.Counter[str] = field(default_factory=collections.Counter)
    recent: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=8)
    )
    window: collections.deque[float] = field(default_factory=collections.deque)
    worker_metrics: dict[str, float] = field(default_factory=dict)
    feeds: FeedBoard = field(default_factory=FeedBoard)
    notes: list[str] = field(default_factory=list)
    """Standing remarks shown on top (e.g. kept state from an earlier run)."""

    def add(self, event: dict[str, Any]) -> None:
        now = time.monotonic()
        self.events += 1
        self.by_kind[event.get("kind", "?")] += 1
        self.tags.update(event.get("tags", []))
        self.recent.appendleft(event)
        self.window.append(now)

    def rate(self, span: float = 10.0) -> float:
        now = time.monotonic()
        while self.window and self.window[0] < now - span:
            self.window.popleft()
        return len(self.window) / min(span, max(now - self.started, 1e-9))

    # ------------------------------------------------------------------ pieces of the view
    def _header(self) -> str:
        return (
            f"news-streams live  up {time.monotonic() - self.started:.0f}s   "
            f"events {self.events} ({self.by_kind['lead']} lead, {self.by_kind['teaser']} teaser)"
            f"   {self.rate():.1f} events/s"
        )

    def _pipeline(self) -> str:
        m = self.worker_metrics
        dups = m.get("news_duplicates_total", 0.0)
        units = m.get("news_units_total", 0.0)
        return (
            f"raw items {m.get('news_raw_items_total', 0):.0f}   units {units:.0f}   "
            f"duplicates dropped {dups:.0f}"
            + (f" ({dups / units:.0%})" if units else "")
            + f"   dead letters {m.get('news_dlq_records_total', 0):.0f}"
        )

    def _tags(self, n: int = 8) -> str:
        top = ", ".join(f"{t} {c}" for t, c in self.tags.most_common(n))
        return "top tags: " + (top or "(none yet)")

    def _feed_lines(self, width: int, limit: int) -> list[str]:
        ok, failing, pending = self.feeds.counts()
        lines = [f"feeds: {ok} ok, {failing} failing" + (f", {pending} pending" if pending else "")]
        shown = self.feeds.ordered()
        for s in shown[:limit]:
            if s.failing:
                err = (s.last_error or "").replace("\n", " ")
                line = f"  ! {s.feed}: {s.outcome} x{s.errors}: {err}"
            else:
                line = f"    {s.feed}: {s.outcome} ({s.items} items)"
            lines.append(line[:width])
        if len(shown) > limit:
            lines.append(f"    ... {len(shown) - limit} more")
        if self.feeds.any_refused():
            lines.append(f"  hint: {PRIVATE_HINT}")
        return lines

    @staticmethod
    def _event_line(ev: dict[str, Any], width: int) -> str:
        text = (ev.get("title") or ev.get("text", "")).replace("\n", " ")
        tags = ",".join(ev.get("tags", [])[:4])
        line = f"[{ev.get('kind', '?'):6}] [{ev.get('language', '?')}] {text}"
        return f"{line[: max(10, width - len(tags) - 3)]}  {tags}".rstrip()

    # ------------------------------------------------------------------------- renderings
    def render(self, width: int = 100) -> str:
        """The full screen (terminal)."""
        lines = [*self.notes, self._header(), self._pipeline(), self._tags()]
        lines += self._feed_lines(width, limit=8)
        lines.append("-" * min(width, 100))
        lines += [self._event_line(ev, width) for ev in self.recent]
        return "\n".join(lines)

    def summary(self, width: int = 120, recent: int = 3) -> str:
        """The compact multi-line block printed every few seconds when stdout is not a tty."""
        lines = [*self.notes, self._header(), "  " + self._pipeline(), "  " + self._tags(6)]
        lines += ["  " + x for x in self._feed_lines(width - 2, limit=4)]
        latest = list(self.recent)[:recent]
        lines += ["  latest " + self._event_line(ev, width - 9) for ev in latest]
        return "\n".join(lines)


def parse_metrics(text: str) -> dict[str, float]:
    """Sum the samples of each metric family we show (labels dropped)."""
    wanted = (
        "news_duplicates_total",
        "news_units_total",
        "news_raw_items_total",
        "news_dlq_records_total",
        "news_events_total",
    )
    out: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name = line.split("{", 1)[0].split(" ", 1)[0]
        if name in wanted:
            try:
                out[name] = out.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
            except ValueError:
                continue
    return out


async def watch(
    bootstrap: str | Settings,
    stats: LiveStats,
    metrics_url: str | None,
    render: Any,
    interval: float = 1.0,
) -> None:
    """Consume news.events from now on and call ``render(stats)`` every ``interval`` seconds.

    ``bootstrap`` is a plain address or settings (then their Kafka security is used).
    """
    import httpx
    from aiokafka import AIOKafkaConsumer

    if isinstance(bootstrap, Settings):
        from streams.kafka import client_kwargs

        options = client_kwargs(bootstrap)
    else:
        options = {"bootstrap_servers": bootstrap}
    consumer = AIOKafkaConsumer(topics.EVENTS, auto_offset_reset="latest", group_id=None, **options)
    await consumer.start()
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:
            next_render = time.monotonic()
            while True:
                batch = await consumer.getmany(timeout_ms=200)
                for records in batch.values():
                    for record in records:
                        try:
                            stats.add(orjson.loads(record.value or b"{}"))
                        except orjson.JSONDecodeError:
                            continue
                if time.monotonic() >= next_render:
                    next_render = time.monotonic() + interval
                    if metrics_url:
                        try:
                            resp = await client.get(metrics_url)
                            stats.worker_metrics = parse_metrics(resp.text)
                        except httpx.HTTPError:
                            pass
                    render(stats)
                await asyncio.sleep(0)
    finally:
        await consumer.stop()
