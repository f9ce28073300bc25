"""``news-streams feeds add|remove|pause|resume|list``: edit and show the live registry.

The commands write ``news.feeds``; running pollers follow that topic and apply a change within
about a second (well within one poll interval). ``list`` reads the registry and the pollers'
state topic, so it shows what the pollers know: state, last outcome and error, next due time.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from streams.feeds.group import (
    DEFAULT_TOPICS,
    FeedTopics,
    ensure_topics,
    read_registry,
    write_feeds,
)
from streams.feeds.registry import REMOVED, Feed, RegistryError, _validate, encode_feed
from streams.feeds.state import ACTIVE, PAUSED, FeedState
from streams.settings import Settings


class CommandError(Exception):
    """A user error: printed without a traceback, exit status 2."""


def feed_id_for(url: str) -> str:
    """A readable, stable id for a URL: host, a path hint and a short hash."""
    parts = urlsplit(url)
    host = re.sub(r"^www\.", "", parts.hostname or "feed")
    hint = re.sub(r"[^A-Za-z0-9]+", "-", parts.path).strip("-")[:30]
    digest = hashlib.sha1(url.encode()).hexdigest()[:6]
    return re.sub(r"-+", "-", f"{host}-{hint}-{digest}" if hint else f"{host}-{digest}")[:100]


async def add(
    settings: Settings,
    url: str,
    *,
    feed_id: str | None = None,
    interval_s: float | None = None,
    full_text: str | None = None,
    schedule: str | None = None,
    names: FeedTopics = DEFAULT_TOPICS,
) -> Feed:
    data: dict[str, Any] = {"id": feed_id or feed_id_for(url), "url": url}
    for key, value in (
        ("interval_s", interval_s),
        ("full_text", full_text),
        ("schedule", schedule),
    ):
        if value is not None:
            data[key] = value
    try:
        feed = _validate(data, "feeds add")
    except RegistryError as exc:
        raise CommandError(str(exc)) from None
    await ensure_topics(settings, names)
    await write_feeds(settings, [(feed.id, encode_feed(feed))], names)
    return feed


async def _existing(settings: Settings, feed_id: str, names: FeedTopics) -> Feed:
    await ensure_topics(settings, names)
    feeds, _ = await read_registry(settings, names)
    entry = feeds.get(feed_id)
    if entry is None or entry[1] is None:
        raise CommandError(f"no feed {feed_id!r} in the registry (see 'news-streams feeds list')")
    return entry[1]


async def remove(settings: Settings, feed_id: str, names: FeedTopics = DEFAULT_TOPICS) -> None:
    await _existing(settings, feed_id, names)
    await write_feeds(settings, [(feed_id, REMOVED)], names)


async def pause(settings: Settings, feed_id: str, names: FeedTopics = DEFAULT_TOPICS) -> Feed:
    feed = replace(await _existing(settings, feed_id, names), enabled=False)
    await write_feeds(settings, [(feed_id, encode_feed(feed))], names)
    return feed


async def resume(settings: Settings, feed_id: str, names: FeedTopics = DEFAULT_TOPICS) -> Feed:
    """Enable a paused feed and clear a disabled (410) or failing state: poll it now."""
    feed = replace(
        await _existing(settings, feed_id, names), enabled=True, token=uuid.uuid4().hex[:12]
    )
    await write_feeds(settings, [(feed_id, encode_feed(feed))], names)
    return feed


async def rows(settings: Settings, names: FeedTopics = DEFAULT_TOPICS) -> list[dict[str, Any]]:
    """One dict per registered feed, with what the pollers' state says about it."""
    await ensure_topics(settings, names)
    feeds, states = await read_registry(settings, names)
    out = []
    for feed_id, (_, feed) in sorted(feeds.items()):
        if feed is None:
            continue
        state = states.get(feed_id) or FeedState(feed_id)
        out.append(
            {
                "id": feed_id,
                "url": state.url or feed.url,
                "state": PAUSED if not feed.enabled else (state.status or ACTIVE),
                "errors": state.errors,
                "last_outcome": state.last_outcome,
                "last_code": state.last_code,
                "last_error": state.last_error,
                "last_poll_at": _iso(state.last_poll_at),
                "next_due": _iso(state.next_at) if state.next_at else None,
                "seen_items": len(state.seen),
                "interval_s": feed.interval_s,
                "full_text": feed.full_text,
                "schedule": feed.schedule,
            }
        )
    return out


def table(records: list[dict[str, Any]]) -> str:
    head = ("id", "state", "errors", "last_outcome", "next_due", "url", "last_error")
    lines = [head]
    now = time.time()
    for r in records:
        due = r["next_due"] or "-"
        if r["next_due"]:
            delta = datetime.fromisoformat(r["next_due"].replace("Z", "+00:00")).timestamp() - now
            due = "now" if delta <= 0 else f"in {delta:.0f}s"
        outcome = r["last_outcome"] or "-"
        if r["last_code"]:
            outcome += f" ({r['last_code']})"
        lines.append(
            (
                r["id"],
                r["state"],
                str(r["errors"]),
                outcome,
                due,
                r["url"],
                (r["last_error"] or "")[:80],
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(head) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in lines
    ).rstrip()


def _iso(moment: float | None) -> str | None:
    if not moment:
        return None
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
