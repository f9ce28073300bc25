"""The live terminal view of ``news-streams run``: what flows on ``news.events``, refreshed.

Reads the events topic with a plain aiokafka consumer (as any downstream team would) and the
worker's ``/metrics`` for what does not show on the topic (duplicates dropped, dead letters).
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from streams import topics

CLEAR = "\x1b[H\x1b[2J"


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

    def render(self, width: int = 100) -> str:
        m = self.worker_metrics
        dups = m.get("news_duplicates_total", 0.0)
        units = m.get("news_units_total", 0.0)
        lines = [
            f"news-streams live  up {time.monotonic() - self.started:6.0f}s   "
            f"events {self.events}  ({self.by_kind['lead']} lead, {self.by_kind['teaser']} teaser)"
            f"   {self.rate():.1f} events/s",
            f"raw items {m.get('news_raw_items_total', 0):.0f}   units {units:.0f}   "
            f"duplicates dropped {dups:.0f}"
            + (f" ({dups / units:.0%})" if units else "")
            + f"   dead letters {m.get('news_dlq_records_total', 0):.0f}",
            "top tags: " + ", ".join(f"{t} {n}" for t, n in self.tags.most_common(8)),
            "-" * min(width, 100),
        ]
        for ev in self.recent:
            text = ev.get("title") or ev.get("text", "")
            tags = ",".join(ev.get("tags", [])[:4])
            line = f"[{ev.get('kind', '?'):6}] [{ev.get('language', '?')}] {text}"
            lines.append(f"{line[: width - len(tags) - 3]}  {tags}")
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
    bootstrap: str, stats: LiveStats, metrics_url: str | None, render: Any, interval: float = 1.0
) -> None:
    """Consume news.events from now on and call ``render(stats)`` every ``interval`` seconds."""
    import httpx
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        topics.EVENTS, bootstrap_servers=bootstrap, auto_offset_reset="latest", group_id=None
    )
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
