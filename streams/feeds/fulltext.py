"""Full text for summary-only feeds: fetch the item's article page and hand it on whole.

Per feed ``full_text`` (or ``NEWS_FULL_TEXT``): ``off``; ``always``; ``auto`` = only items whose
content is a short summary (under ``NEWS_FULL_TEXT_SUMMARY_CHARS`` characters of text). The
page goes into the raw item as ``text/html``; the worker's splitter extracts the article,
its lead and teasers from the whole page.

Article fetches use the feed :class:`~streams.feeds.fetch.Fetcher` (same byte cap, deadline and
SSRF guard) and are polite: at most ``NEWS_FULL_TEXT_HOST_CONCURRENCY`` at a time per host, a
pause of ``NEWS_FULL_TEXT_HOST_DELAY_S`` between them, and robots.txt (RFC 9309: a 4xx
robots.txt allows everything, an unreachable or 5xx one disallows everything) honoured for
our User-Agent. Any failure keeps the feed's own summary: full text never loses an item.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from streams.feeds.fetch import Fetcher, FetchError, FetchHTTPStatus
from streams.feeds.registry import Feed
from streams.metrics import FEED_FULLTEXT_FETCHES
from streams.records import RawItem
from streams.settings import Settings

log = logging.getLogger(__name__)

ROBOTS_TTL_S = 3600.0
_TAG_RE = re.compile(r"<[^>]+>")
_CHARSET_RE = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._-]+)", re.I)


def text_length(item: RawItem) -> int:
    content = item["content"]
    if item["content_type"] == "text/html":
        content = _TAG_RE.sub(" ", content)
    return len(" ".join(content.split()))


class FullText:
    """``await fulltext.enrich(feed, items)``: items with their article page where wanted."""

    def __init__(self, settings: Settings, fetcher: Fetcher) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._last: dict[str, float] = {}
        self._robots: dict[str, tuple[float, RobotFileParser | None, bool]] = {}
        self._robots_locks: dict[str, asyncio.Lock] = {}

    def wanted(self, feed: Feed, item: RawItem) -> bool:
        mode = feed.full_text or self.settings.full_text
        if mode == "off" or not item["url"]:
            return False
        return mode == "always" or text_length(item) < self.settings.full_text_summary_chars

    async def enrich(self, feed: Feed, items: list[RawItem]) -> list[RawItem]:
        if (feed.full_text or self.settings.full_text) == "off":
            return items
        return list(
            await asyncio.gather(
                *(self._article(item) if self.wanted(feed, item) else _same(item) for item in items)
            )
        )

    async def _article(self, item: RawItem) -> RawItem:
        url = item["url"] or ""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        try:
            if not await self.allowed(url):
                FEED_FULLTEXT_FETCHES.labels("robots").inc()
                return item
            async with self._host(host):
                wait = self._last.get(host, 0.0) + self.settings.full_text_host_delay_s
                if wait > time.monotonic():
                    await asyncio.sleep(wait - time.monotonic())
                try:
                    result = await self.fetcher.fetch(url)
                finally:
                    self._last[host] = time.monotonic()
        except FetchError as exc:
            FEED_FULLTEXT_FETCHES.labels(exc.reason).inc()
            log.info("full text of %s not fetched (%s): the summary is kept", url, exc)
            return item
        ctype = (result.content_type or "").lower()
        if "html" not in ctype:
            FEED_FULLTEXT_FETCHES.labels("not_html").inc()
            return item
        FEED_FULLTEXT_FETCHES.labels("ok").inc()
        page = _decode(result.body, ctype)
        return {**item, "content": page, "content_type": "text/html"}

    def _host(self, host: str) -> asyncio.Semaphore:
        if host not in self._hosts:
            self._hosts[host] = asyncio.Semaphore(max(1, self.settings.full_text_host_concurrency))
        return self._hosts[host]

    async def allowed(self, url: str) -> bool:
        """robots.txt says our User-Agent may fetch ``url`` (cached per host for an hour)."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        lock = self._robots_locks.setdefault(host, asyncio.Lock())
        async with lock:
            cached = self._robots.get(host)
            if cached is None or cached[0] < time.monotonic():
                cached = (time.monotonic() + ROBOTS_TTL_S, *await self._fetch_robots(host))
                self._robots[host] = cached
        _, rules, allow_all = cached
        if rules is None:
            return allow_all
        return rules.can_fetch(self.settings.user_agent, url)

    async def _fetch_robots(self, host: str) -> tuple[RobotFileParser | None, bool]:
        try:
            result = await self.fetcher.fetch(f"{host}/robots.txt")
        except FetchHTTPStatus as exc:
            return None, 400 <= exc.status < 500
        except FetchError:
            return None, False
        rules = RobotFileParser()
        rules.parse(result.body.decode("utf-8", "replace").splitlines())
        return rules, True


async def _same(item: RawItem) -> RawItem:
    return item


def _decode(body: bytes, content_type: str) -> str:
    match = _CHARSET_RE.search(content_type) or _CHARSET_RE.search(
        body[:2048].decode("ascii", "replace")
    )
    if match:
        try:
            return body.decode(match.group(1), "replace")
        except LookupError:
            pass
    return body.decode("utf-8", "replace")
