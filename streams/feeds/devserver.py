"""A local RSS/Atom server on 127.0.0.1 for ``make run``, demos and the HTTP tests.

Feeds are built from the shared news excerpts when present (read in place, never copied), the
way scraped news items look: headline, lead paragraphs, then a block of teasers taken from
OTHER stories, sometimes repeated, and the same story now and then in two feeds. Without the
shared directory, the invented items in ``samples.yaml`` are used.

It behaves like a polite real server (ETag/Last-Modified → 304, gzip) and, in trickle mode,
reveals items over time so a live demo shows events flowing. Misbehaving endpoints under
``/test/`` exercise the fetcher's limits: slow, dripping, huge, gzip bomb, malformed, not XML,
undeclared windows-1251, error statuses, redirects, and an echo of the request headers; and
for the poller's permanent outcomes: 301/308/302/307 to a feed, 410, billion laughs, undefined
entities, an empty body, a big feed (always 200, no validators), ``Cache-Control`` on demand,
and ``/bench/{i}`` (every tenth feed has 30 new items on every request, the others answer 304).

Standalone: ``python -m streams.feeds.devserver --port 8765 [--trickle 5] [--write-feeds F]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import html
import json
import logging
import os
import random
import re
import time
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

import yaml
from aiohttp import web
from aiohttp.web_response import ContentCoding

from streams.feeds.registry import Feed

log = logging.getLogger(__name__)

Format = Literal["rss", "atom"]
HUGE_BYTES = 50 * 1024 * 1024
SAMPLES = Path(__file__).with_name("samples.yaml")
EXCERPTS = Path("corpora") / "news-excerpts" / "excerpts.jsonl"


def shared_dir() -> Path:
    """The read-only shared directory: ``$NEWS_SHARED_DIR`` or ``<repo>/../shared``."""
    env = os.environ.get("NEWS_SHARED_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared"


@dataclass(frozen=True, slots=True)
class DevItem:
    """One news item as the server publishes it."""

    guid: str
    title: str
    link: str
    published: datetime
    content: str
    html: bool = False
    lang: str = "en"


@dataclass(slots=True)
class _Feed:
    name: str
    items: list[DevItem]
    fmt: Format
    changed_at: float
    version: int = 0


@dataclass(slots=True)
class _Story:
    title: str
    lead: list[str]
    lang: str
    url: str
    date: datetime | None = None
    lede: str = field(default="")


# --- building items ------------------------------------------------------------------------


def build_items_from_shared(
    shared: Path | None = None, *, seed: int = 7, samples_only: bool = False
) -> dict[str, tuple[Format, list[DevItem]]]:
    """Feed name → (format, items) from the shared excerpts, or from ``samples.yaml``.

    Four feeds: two Ukrainian (RSS with HTML, Atom with plain text), Russian (RSS, plain
    text) and English (Atom, HTML); every eighth story of the first also appears in the second
    under another guid and link (a syndicated copy the worker must dedup).
    """
    path = (shared or shared_dir()) / EXCERPTS
    if path.is_file() and not samples_only:
        stories = _stories_from_excerpts(path)
    else:
        why = "samples requested" if samples_only else f"{path} not found"
        log.info("%s: using the invented samples in %s", why, SAMPLES.name)
        stories = _stories_from_samples()
    rng = random.Random(seed)
    by_lang: dict[str, list[_Story]] = {}
    for story in stories:
        by_lang.setdefault(story.lang, []).append(story)
    uk = by_lang.get("uk", [])
    half = (len(uk) + 1) // 2
    plan: list[tuple[str, Format, bool, list[_Story]]] = [
        ("uk-news", "rss", True, uk[:half]),
        ("uk-digest", "atom", False, uk[half:]),
        ("ru-news", "rss", False, by_lang.get("ru", [])),
        ("en-news", "atom", True, by_lang.get("en", [])),
    ]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    feeds: dict[str, tuple[Format, list[DevItem]]] = {}
    for name, fmt, as_html, group in plan:
        items = [
            _item(name, i, story, stories, rng, as_html, base + timedelta(minutes=7 * i))
            for i, story in enumerate(group)
        ]
        feeds[name] = (fmt, items)
    copies = [
        _item("uk-digest", 10_000 + i, story, stories, rng, False, base + timedelta(minutes=i))
        for i, story in enumerate(uk[:half:8])
    ]
    fmt, digest = feeds["uk-digest"]
    merged = sorted(digest + copies, key=lambda item: item.published)
    feeds["uk-digest"] = (fmt, merged)
    return {k: v for k, v in feeds.items() if v[1]}


def _stories_from_excerpts(path: Path) -> list[_Story]:
    stories = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            paras = [p.strip() for p in re.split(r"\n+", row.get("text") or "") if p.strip()]
            if not paras:
                continue
            date = None
            if row.get("date"):
                with contextlib.suppress(ValueError):
                    date = datetime.fromisoformat(row["date"]).replace(tzinfo=UTC)
            if len(paras) > 1 and len(paras[0]) <= 160:
                title, lead = paras[0], paras[1:]
            else:
                title, lead = _headline(paras[0]), paras
            stories.append(
                _Story(title, lead, row.get("lang") or "en", row.get("url") or "", date, lead[0])
            )
    return stories


def _stories_from_samples() -> list[_Story]:
    data = yaml.safe_load(SAMPLES.read_text(encoding="utf-8"))
    return [
        _Story(
            row["title"],
            list(row["paragraphs"]),
            row["lang"],
            f"https://samples.invalid/{i}",
            None,
            row["paragraphs"][0],
        )
        for i, row in enumerate(data["items"])
    ]


def _headline(paragraph: str, limit: int = 110) -> str:
    sentence = re.split(r"(?<=[.!?])\s", paragraph, maxsplit=1)[0]
    if len(sentence) <= limit:
        return sentence.rstrip(".")
    cut = sentence[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def _item(
    feed: str,
    index: int,
    story: _Story,
    everything: Sequence[_Story],
    rng: random.Random,
    as_html: bool,
    fallback_date: datetime,
) -> DevItem:
    others = [s for s in everything if s is not story]
    teasers: list[str] = []
    if others and rng.random() < 0.8:
        picks = rng.sample(others, k=min(len(others), rng.randint(2, 6)))
        teasers = [s.title if rng.random() < 0.5 else s.lede for s in picks]
        if rng.random() < 0.2:
            teasers.append(rng.choice(teasers))  # scraped pages repeat teaser blocks
    if as_html:
        parts = [f"<h1>{html.escape(story.title)}</h1>"]
        parts += [f"<p>{html.escape(p)}</p>" for p in story.lead]
        if teasers:
            links = "".join(
                f'<li><a href="#t{i}">{html.escape(t)}</a></li>' for i, t in enumerate(teasers)
            )
            parts.append(f'<div class="related"><h3>Read also</h3><ul>{links}</ul></div>')
        content = "\n".join(parts)
    else:
        content = story.title + "\n\n" + "\n".join([*story.lead, *teasers])
    slug = hashlib.sha1(f"{feed}/{index}/{story.url}".encode()).hexdigest()[:12]
    return DevItem(
        guid=f"urn:news-streams:dev:{feed}:{slug}",
        title=story.title,
        link=story.url or f"https://dev.invalid/{feed}/{slug}",
        published=story.date or fallback_date,
        content=content,
        html=as_html,
        lang=story.lang,
    )


# --- rendering ----------------------------------------------------------------------------


def render_rss(title: str, link: str, items: Iterable[DevItem]) -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
        f"<channel><title>{escape(title)}</title><link>{escape(link)}</link>",
        f"<description>{escape(title)} (news-streams dev server)</description>",
    ]
    for it in items:
        out.append("<item>")
        out.append(f"<title>{escape(it.title)}</title><link>{escape(it.link)}</link>")
        out.append(f'<guid isPermaLink="false">{escape(it.guid)}</guid>')
        out.append(f"<pubDate>{format_datetime(it.published, usegmt=True)}</pubDate>")
        if it.html:
            first = re.sub(r"<[^>]+>", "", it.content.split("</p>", 1)[0])
            out.append(f"<description>{escape(first)}</description>")
            cdata = it.content.replace("]]>", "]]]]><![CDATA[>")
            out.append(f"<content:encoded><![CDATA[{cdata}]]></content:encoded>")
        else:
            out.append(f"<description>{escape(it.content)}</description>")
        out.append("</item>")
    out.append("</channel></rss>")
    return "\n".join(out)


def render_atom(title: str, link: str, items: Sequence[DevItem]) -> str:
    updated = max((it.published for it in items), default=datetime(2026, 1, 1, tzinfo=UTC))
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>{escape(link)}</id>",
        f"<link href={quoteattr(link)}/><updated>{_rfc3339(updated)}</updated>",
    ]
    for it in items:
        kind = "html" if it.html else "text"
        out.append("<entry>")
        out.append(f"<title>{escape(it.title)}</title><id>{escape(it.guid)}</id>")
        out.append(f'<link rel="alternate" href={quoteattr(it.link)}/>')
        out.append(f"<updated>{_rfc3339(it.published)}</updated>")
        out.append(f"<published>{_rfc3339(it.published)}</published>")
        out.append(f'<content type="{kind}" xml:lang="{it.lang}">{escape(it.content)}</content>')
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the server ----------------------------------------------------------------------------


class FeedServer:
    """aiohttp server on 127.0.0.1. Feeds live at ``/feeds/<name>``; test endpoints at ``/test/``.

    With ``trickle_s``, each feed starts with ``trickle_initial`` items and reveals one more
    every ``trickle_s`` seconds (computed from the clock, no background task).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        trickle_s: float | None = None,
        trickle_initial: int = 5,
    ) -> None:
        self.host = host
        self.port = port
        self.trickle_s = trickle_s
        self.trickle_initial = trickle_initial
        self.started_at = time.time()
        self.requests: dict[str, int] = {}
        self.log: list[tuple[float, str, str]] = []
        """(time, path, User-Agent) of every feed request (who polled what, when)."""
        self._big: dict[int, bytes] = {}
        self._bench_rounds: dict[int, int] = {}
        self.robots_txt: str | None = "User-agent: *\nDisallow: /articles/private\n"
        """Served at /robots.txt (None: 404)."""
        self._feeds: dict[str, _Feed] = {}
        self._runner: web.AppRunner | None = None
        self._bomb: bytes | None = None

    # lifecycle
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/feeds/{name}", self._feed)
        app.router.add_get("/test/slow", self._slow)
        app.router.add_get("/test/drip", self._drip)
        app.router.add_get("/test/huge", self._huge)
        app.router.add_get("/test/gzip-bomb", self._gzip_bomb)
        app.router.add_get("/test/malformed", self._malformed)
        app.router.add_get("/test/not-xml", self._not_xml)
        app.router.add_get("/test/cp1251", self._cp1251)
        app.router.add_get("/test/status/{code}", self._status)
        app.router.add_get("/test/redirect/{n}", self._redirect)
        app.router.add_get("/test/headers", self._headers)
        app.router.add_get("/test/moved/{code}/{name}", self._moved)
        app.router.add_get("/test/billion-laughs", self._billion_laughs)
        app.router.add_get("/test/undefined-entity", self._undefined_entity)
        app.router.add_get("/test/empty", self._empty)
        app.router.add_get("/test/big", self._big_feed)
        app.router.add_get("/bench/{i}", self._bench)
        app.router.add_get("/robots.txt", self._robots)
        app.router.add_get("/articles/{slug:.+}", self._article)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = int(self._runner.addresses[0][1])
        self.started_at = time.time()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # content
    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    def feed_url(self, name: str) -> str:
        return self.url(f"feeds/{name}")

    def add_feed(self, name: str, items: Iterable[DevItem], fmt: Format = "rss") -> str:
        """Publish (or replace) a feed; returns its URL."""
        if fmt not in ("rss", "atom"):
            raise ValueError(f"fmt must be 'rss' or 'atom', not {fmt!r}")
        old = self._feeds.get(name)
        version = old.version + 1 if old else 0
        self._feeds[name] = _Feed(name, list(items), fmt, time.time(), version)
        return self.feed_url(name)

    def add_items(self, name: str, items: Iterable[DevItem]) -> None:
        """Append items to a feed (a new ETag and Last-Modified follow)."""
        feed = self._feeds[name]
        feed.items.extend(items)
        feed.version += 1
        feed.changed_at = time.time()

    def load_default_feeds(
        self, shared: Path | None = None, *, samples_only: bool = False
    ) -> list[str]:
        """Publish the feeds of :func:`build_items_from_shared`; returns their names."""
        built = build_items_from_shared(shared, samples_only=samples_only)
        for name, (fmt, items) in built.items():
            self.add_feed(name, items, fmt)
        return list(self._feeds)

    def feeds(self, interval_s: float | None = None) -> list[Feed]:
        """The published feeds as registry entries (what ``make run`` polls)."""
        return [Feed(id=n, url=self.feed_url(n), interval_s=interval_s) for n in self._feeds]

    def feeds_yaml(self, interval_s: float | None = None) -> str:
        rows = []
        for feed in self.feeds(interval_s):
            row: dict[str, object] = {"id": feed.id, "url": feed.url}
            if interval_s is not None:
                row["interval_s"] = interval_s
            rows.append(row)
        return yaml.safe_dump({"feeds": rows}, sort_keys=False)

    def _visible(self, feed: _Feed) -> tuple[list[DevItem], float]:
        """Items visible now, and when the visible set last changed."""
        if not self.trickle_s:
            return feed.items, feed.changed_at
        elapsed = max(0.0, time.time() - self.started_at)
        extra = int(elapsed / self.trickle_s)
        count = min(len(feed.items), self.trickle_initial + extra)
        revealed = max(0, count - self.trickle_initial)
        changed = max(feed.changed_at, self.started_at + revealed * self.trickle_s)
        return feed.items[:count], changed

    # handlers
    def _count(self, request: web.Request) -> None:
        self.requests[request.path] = self.requests.get(request.path, 0) + 1
        self.log.append((time.time(), request.path, request.headers.get("User-Agent", "")))

    async def _index(self, request: web.Request) -> web.Response:
        links = "".join(
            f'<li><a href="/feeds/{n}">{n}</a> ({f.fmt}, {len(f.items)} items)</li>'
            for n, f in self._feeds.items()
        )
        body = f"<html><body><h1>news-streams dev feeds</h1><ul>{links}</ul></body></html>"
        return web.Response(text=body, content_type="text/html")

    async def _feed(self, request: web.Request) -> web.StreamResponse:
        self._count(request)
        feed = self._feeds.get(request.match_info["name"])
        if feed is None:
            raise web.HTTPNotFound(text="no such feed")
        items, changed = self._visible(feed)
        # Newest first, as real feeds list them.
        items = sorted(items, key=lambda it: it.published, reverse=True)
        etag = f'"{feed.name}-{feed.version}-{len(items)}"'
        last_modified = datetime.fromtimestamp(int(changed), UTC)
        headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True)}
        if "max_age" in request.query:
            headers["Cache-Control"] = f"max-age={int(request.query['max_age'])}"
        if _not_modified(request, etag, last_modified):
            return web.Response(status=304, headers=headers)
        title = f"news-streams dev: {feed.name}"
        if feed.fmt == "rss":
            body, ctype = render_rss(title, self.feed_url(feed.name), items), "application/rss+xml"
        else:
            body, ctype = (
                render_atom(title, self.feed_url(feed.name), items),
                "application/atom+xml",
            )
        response = web.Response(
            body=body.encode("utf-8"), headers=headers, content_type=ctype, charset="utf-8"
        )
        accepted = request.headers.get("Accept-Encoding", "")
        if request.query.get("coding") == "deflate" and "deflate" in accepted:
            response.enable_compression(ContentCoding.deflate)
        elif "gzip" in accepted:
            response.enable_compression(ContentCoding.gzip)
        return response

    async def _slow(self, request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.query.get("delay", "30")))
        return web.Response(body=_tiny_rss().encode(), content_type="application/rss+xml")

    async def _drip(self, request: web.Request) -> web.StreamResponse:
        """Headers at once, then a byte every ``every`` seconds: only a total deadline stops it."""
        every = float(request.query.get("every", "0.2"))
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError):
            for char in _tiny_rss()[:300]:
                await response.write(char.encode())
                await asyncio.sleep(every)
        return response

    async def _huge(self, request: web.Request) -> web.StreamResponse:
        """50 MB of a never-ending RSS channel, streamed in 64 KiB chunks (never in memory)."""
        size = int(request.query.get("bytes", str(HUGE_BYTES)))
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        if request.query.get("length") == "1":
            response.content_length = size
        await response.prepare(request)
        chunk = (b"<item><title>filler</title></item>\n" * 2000)[: 64 * 1024]
        sent = 0
        with contextlib.suppress(ConnectionError):
            while sent < size:
                piece = chunk[: size - sent]
                await response.write(piece)
                sent += len(piece)
        return response

    async def _gzip_bomb(self, request: web.Request) -> web.Response:
        """~50 KB of gzip that inflates to 50 MB: the cap must hold on the decoded size."""
        if self._bomb is None:
            packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            zeros = b"\0" * (1024 * 1024)
            parts = [packer.compress(zeros) for _ in range(HUGE_BYTES // len(zeros))]
            self._bomb = b"".join(parts) + packer.flush()
        headers = {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}
        return web.Response(body=self._bomb, headers=headers)

    async def _malformed(self, request: web.Request) -> web.Response:
        body = '<?xml version="1.0"?><rss version="2.0"><channel><title>Broken</title><item><titl'
        return web.Response(text=body, content_type="application/rss+xml")

    async def _not_xml(self, request: web.Request) -> web.Response:
        body = "<!doctype html><html><body><h1>Not a feed</h1><p>Moved.</p></body></html>"
        return web.Response(text=body, content_type="text/html")

    async def _cp1251(self, request: web.Request) -> web.Response:
        """Cyrillic RSS in windows-1251 with no charset anywhere (a common old-CMS bug)."""
        body = CP1251_RSS.encode("cp1251")
        return web.Response(body=body, headers={"Content-Type": "application/rss+xml"})

    async def _status(self, request: web.Request) -> web.Response:
        self._count(request)
        code = int(request.match_info["code"])
        headers = {}
        if "retry_after" in request.query:
            headers["Retry-After"] = request.query["retry_after"]
        return web.Response(status=code, text=f"status {code}", headers=headers)

    async def _headers(self, request: web.Request) -> web.Response:
        """Echo the request headers as JSON (what the fetcher really sends)."""
        return web.json_response(dict(request.headers))

    async def _moved(self, request: web.Request) -> web.Response:
        """``code`` (301/302/307/308) to ``/feeds/<name>``."""
        self._count(request)
        code = int(request.match_info["code"])
        target = f"/feeds/{request.match_info['name']}"
        return web.Response(status=code, headers={"Location": target})

    async def _billion_laughs(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(text=BILLION_LAUGHS, content_type="application/rss+xml")

    async def _undefined_entity(self, request: web.Request) -> web.Response:
        self._count(request)
        body = BILLION_LAUGHS.split("]>", 1)[1]  # the same without its declarations
        return web.Response(text=body, content_type="application/rss+xml")

    async def _empty(self, request: web.Request) -> web.Response:
        self._count(request)
        return web.Response(body=b"", content_type="application/rss+xml")

    async def _big_feed(self, request: web.Request) -> web.Response:
        """``items`` items of ~1 KB (9,500 ≈ 9 MB), always 200, uncompressed, never the same."""
        self._count(request)
        n = int(request.query.get("items", "9500"))
        if n not in self._big:
            filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 15
            items = [
                DevItem(f"big-{i}", f"Big feed item {i}", f"https://dev.invalid/big/{i}",
                        datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=i), f"{i} {filler}")
                for i in range(n)
            ]  # fmt: skip
            self._big[n] = render_rss("big", "https://dev.invalid/big", items).encode()
        # A different body every time (like a changing lastBuildDate): parsed on every poll.
        body = self._big[n] + f"<!-- {time.time()} -->".encode()
        return web.Response(body=body, content_type="application/rss+xml")

    async def _bench(self, request: web.Request) -> web.Response:
        """Feed ``i``: i % 10 == 0 → 200 with 30 new items per request; else 304 when asked."""
        i = int(request.match_info["i"])
        if i % 10 and request.headers.get("If-None-Match") == f'"bench-{i}"':
            return web.Response(status=304, headers={"ETag": f'"bench-{i}"'})
        round_ = self._bench_rounds.get(i, 0)
        self._bench_rounds[i] = round_ + 1
        n = 30 if i % 10 == 0 else 1
        start = round_ * n if i % 10 == 0 else 0
        body = _bench_rss(i, start, n)
        return web.Response(
            body=body, headers={"ETag": f'"bench-{i}-{round_}"' if i % 10 == 0 else f'"bench-{i}"'},
            content_type="application/rss+xml",
        )  # fmt: skip

    async def _robots(self, request: web.Request) -> web.Response:
        self._count(request)
        if self.robots_txt is None:
            raise web.HTTPNotFound()
        return web.Response(text=self.robots_txt, content_type="text/plain")

    async def _article(self, request: web.Request) -> web.Response:
        """A whole article page (for full text): lead, body, a teaser block, boilerplate."""
        self._count(request)
        slug = html.escape(request.match_info["slug"])
        page = (
            f"<!doctype html><html><head><title>{slug}</title></head><body>"
            f"<nav><a href='/'>Home</a> | <a href='/news'>News</a></nav><article>"
            f"<h1>Article {slug}</h1><p>The full text of article {slug} begins here.</p>"
            f"<p>It goes on with details that the feed's summary left out.</p></article>"
            f"<aside><h3>Read also</h3><ul><li>Another story</li></ul></aside>"
            f"<footer>© news-streams dev server</footer></body></html>"
        )
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def _redirect(self, request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        target = request.query.get("to", "/test/not-xml")
        location = f"/test/redirect/{n - 1}?to={target}" if n > 1 else target
        raise web.HTTPFound(location)


CP1251_RSS = """<rss version="2.0"><channel><title>Новости региона</title>
<link>http://127.0.0.1/</link><description>Лента без объявленной кодировки</description>
<item><title>В Харькове восстановили движение трамваев</title>
<guid isPermaLink="false">cp1251-1</guid>
<description>Трамваи снова ходят по проспекту Науки после трёх недель ремонта путей, сообщили
в городском совете. Стоимость проезда не изменилась.</description></item>
<item><title>Синоптики обещают тёплую погоду на выходных</title>
<guid isPermaLink="false">cp1251-2</guid>
<description>В субботу и воскресенье ожидается до двадцати градусов тепла и небольшой ветер.
</description></item>
</channel></rss>"""


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>lol</title>
<item><title>&lol9;</title><guid>lol-1</guid><description>&lol9;</description></item>
</channel></rss>"""


def _bench_rss(feed: int, start: int, n: int) -> bytes:
    rows = "".join(
        f"<item><title>Bench {feed} item {k}</title><guid>bench-{feed}-{k}</guid>"
        f"<link>https://dev.invalid/bench/{feed}/{k}</link>"
        f"<pubDate>Thu, 01 Jan 2026 00:00:00 GMT</pubDate>"
        f"<description>Story {k} of bench feed {feed}: a short paragraph of news text that "
        f"stands in for a summary of a real article.</description></item>"
        for k in range(start, start + n)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>bench {feed}</title><link>https://dev.invalid/bench/{feed}</link>"
        f"<description>bench</description>{rows}</channel></rss>"
    ).encode()


def _tiny_rss() -> str:
    item = DevItem(
        guid="tiny-1",
        title="Tiny feed",
        link="https://dev.invalid/tiny/1",
        published=datetime(2026, 1, 1, tzinfo=UTC),
        content="A tiny feed with one item.",
    )
    return render_rss("tiny", "https://dev.invalid/tiny", [item])


def _not_modified(request: web.Request, etag: str, last_modified: datetime) -> bool:
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        return etag in [tag.strip() for tag in inm.split(",")] or inm.strip() == "*"
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False


# --- standalone -----------------------------------------------------------------------------


async def _serve(args: argparse.Namespace) -> None:
    server = FeedServer(args.host, args.port, trickle_s=args.trickle)
    server.load_default_feeds(samples_only=args.no_shared)
    await server.start()
    if args.write_feeds:
        Path(args.write_feeds).write_text(server.feeds_yaml(args.interval), encoding="utf-8")
        print(f"feeds file written to {args.write_feeds}")
    for feed in server.feeds():
        print(f"{feed.id:12s} {feed.url}")
    print(f"serving on {server.url('/')} (Ctrl-C stops)", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local RSS/Atom feeds for news-streams demos.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--trickle", type=float, default=None, help="reveal an item every S s")
    parser.add_argument("--no-shared", action="store_true", help="use samples.yaml only")
    parser.add_argument("--write-feeds", metavar="FILE", help="write a feeds file for the poller")
    parser.add_argument("--interval", type=float, default=None, help="interval_s in that file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
