"""Feed bytes → :class:`~streams.records.RawItem` list, via feedparser.

Encodings: feedparser trusts the HTTP charset, the XML declaration and a BOM; with none of
them and a body that is not UTF-8 it silently decodes as windows-1252, which turns Cyrillic
feeds (windows-1251, KOI8-R) into mojibake. When a feed declares nothing and is not valid
UTF-8 we ask charset-normalizer and re-parse the text as UTF-8.

Entities: a document declaring entities (``<!ENTITY``: billion laughs, XXE) or using an
undefined one that is not an HTML entity is refused whole. feedparser drops the declarations
and its lenient parser would otherwise hand us ``&lol9;`` as an item. HTML named entities
(``&nbsp;``), common in real RSS, stay tolerated.

Runs in worker processes (:mod:`streams.feeds.parsepool`): everything here is pure and the
result is picklable.
"""

from __future__ import annotations

import html.entities
import logging
import re
import time
import xml.sax
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import charset_normalizer
import feedparser
import xxhash

from streams.records import RawItem, make_item_id
from streams.times import now_iso

log = logging.getLogger(__name__)

_XML_DECL_RE = re.compile(rb"^\s*<\?xml[^>]*\?>", re.S)
_XML_ENCODING_RE = re.compile(rb"^\s*<\?xml[^>]*\bencoding\s*=", re.S)
_CHARSET_RE = re.compile(r";\s*charset\s*=", re.I)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
_ENTITY_DECL_RE = re.compile(rb"<!ENTITY", re.I)
_ENTITY_REF_RE = re.compile(r"&([A-Za-z_][A-Za-z0-9._-]*);")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_MARKUP_RE = re.compile(r"<[A-Za-z!/][^>]*>|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")


class ParseError(ValueError):
    """The body is not a usable feed; ``str(exc)`` is feedparser's (or our) reason."""


@dataclass(frozen=True, slots=True)
class ParseResult:
    items: list[RawItem]
    skipped: int
    """Entries dropped because they had no content at all."""
    encoding: str
    bozo_reason: str | None = None
    redetected: bool = False
    """True when the charset was guessed by charset-normalizer (see module doc)."""
    ttl_s: float | None = None
    """The feed's RSS ``<ttl>`` in seconds (a floor for the schedule)."""
    digests: tuple[int, ...] = ()
    """Content digest of each item (same order): an edited item is sent again."""


def parse_feed(
    feed_id: str,
    body: bytes,
    *,
    headers: Mapping[str, str] | None = None,
    url: str | None = None,
    fetched_at: str | None = None,
) -> ParseResult:
    """Parse one fetched body. ``url`` (final URL) resolves relative links.

    A body that is not a feed, or is malformed with no usable entry, raises :class:`ParseError`;
    a malformed feed that still has entries yields them (the bozo reason is logged).
    """
    if _ENTITY_DECL_RE.search(body[:65536]):
        raise ParseError("not a well-formed feed: entity declarations (billion laughs / XXE)")
    response_headers = {k.lower(): v for k, v in (headers or {}).items()}
    # feedparser resolves relative links against Content-Location; with headers present but
    # no Content-Type it would flag the feed as non-XML, so only add it beside a Content-Type.
    if url and "content-type" in response_headers and "content-location" not in response_headers:
        response_headers["content-location"] = url
    fetched = fetched_at or now_iso()
    redetected = False
    result = _feedparse(body, response_headers)
    if _needs_redetection(body, response_headers, result):
        guessed = _redecode(body)
        if guessed is not None:
            fixed_body, encoding = guessed
            fixed_headers = dict(response_headers)
            if "content-type" in fixed_headers:
                media = fixed_headers["content-type"].split(";", 1)[0].strip()
                fixed_headers["content-type"] = f"{media or 'application/xml'}; charset=utf-8"
            retry = _feedparse(fixed_body, fixed_headers)
            if retry.get("entries") or not result.get("entries"):
                result, redetected = retry, True
                result["encoding"] = encoding
    bozo_reason = _bozo_reason(result)
    _refuse_undefined_entities(result, body)
    entries = result.get("entries") or []
    items: list[RawItem] = []
    skipped = 0
    for entry in entries:
        item = entry_to_item(feed_id, entry, fetched)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    if not items:
        if bozo_reason is not None:
            raise ParseError(f"malformed feed: {bozo_reason}")
        if not result.get("version") and not entries:
            raise ParseError("not a feed: no RSS/Atom/RDF/JSON feed structure found")
    elif bozo_reason is not None:
        log.info("feed %s is malformed but usable (%d items): %s", feed_id, len(items), bozo_reason)
    return ParseResult(
        items=items,
        skipped=skipped,
        encoding=str(result.get("encoding") or ""),
        bozo_reason=bozo_reason,
        redetected=redetected,
        ttl_s=_ttl_s(result),
        digests=tuple(item_digest(item) for item in items),
    )


def item_digest(item: RawItem) -> int:
    """64-bit digest of what a reader sees of an item (title and content)."""
    return xxhash.xxh3_64_intdigest(f"{item['title']}\x1f{item['content']}".encode())


def _refuse_undefined_entities(result: Any, body: bytes) -> None:
    exc = result.get("bozo_exception")
    if not isinstance(exc, xml.sax.SAXParseException) or "undefined entity" not in str(exc):
        return
    text = body.decode("utf-8", "replace")
    unknown = sorted(
        {
            name
            for name in _ENTITY_REF_RE.findall(text)
            if name not in _XML_ENTITIES and f"{name};" not in html.entities.html5
        }
    )
    if unknown:
        shown = ", ".join(f"&{n};" for n in unknown[:5])
        raise ParseError(f"not a well-formed feed: undefined entity {shown}")


def _ttl_s(result: Any) -> float | None:
    ttl = (result.get("feed") or {}).get("ttl")
    try:
        minutes = float(str(ttl).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60.0 if 0 < minutes < 1e6 else None


def entry_to_item(feed_id: str, entry: Mapping[str, Any], fetched_at: str) -> RawItem | None:
    """One feedparser entry → RawItem, or None when it carries no content at all."""
    content, content_type = _content(entry)
    if not content:
        return None
    guid = _text(entry.get("id"))
    link = _text(entry.get("link"))
    # feedparser copies a non-URL <guid> into ``link``; only real URLs go out as ``url``.
    url = link if link and link.lower().startswith(("http://", "https://")) else None
    title = _text(entry.get("title"))
    published = _iso(entry.get("published_parsed")) or _iso(entry.get("updated_parsed"))
    if guid:
        key = guid
    elif link:
        key = link
    elif title or published:
        key = f"{title or ''}\x1f{published or ''}"
    else:
        key = f"content\x1f{content}"
    return RawItem(
        item_id=make_item_id(feed_id, key),
        feed=feed_id,
        url=url,
        title=title,
        published=published,
        fetched_at=fetched_at,
        content=content,
        content_type=content_type,
        guid=guid,
    )


def _feedparse(body: bytes, headers: Mapping[str, str]) -> Any:
    try:
        return feedparser.parse(body, response_headers=dict(headers))
    except Exception as exc:  # feedparser is meant to never raise; if it does, it's a bad feed
        raise ParseError(f"feedparser failed: {type(exc).__name__}: {exc}") from None


def _declares_encoding(body: bytes, headers: Mapping[str, str]) -> bool:
    if _CHARSET_RE.search(headers.get("content-type", "")):
        return True
    if body.startswith(_BOMS):
        return True
    return bool(_XML_ENCODING_RE.match(body[:512]))


def _needs_redetection(body: bytes, headers: Mapping[str, str], result: Any) -> bool:
    if _declares_encoding(body, headers):
        return False
    if str(result.get("encoding", "")).lower().replace("_", "-") in ("utf-8", "utf8"):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _redecode(body: bytes) -> tuple[bytes, str] | None:
    """Decode with charset-normalizer's best guess; return UTF-8 bytes declaring UTF-8."""
    best = charset_normalizer.from_bytes(body).best()
    if best is None or not best.encoding:
        return None
    try:
        text = body.decode(best.encoding)
    except (LookupError, UnicodeDecodeError):
        return None
    utf8 = _XML_DECL_RE.sub(b"", text.encode("utf-8"), count=1).lstrip()
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + utf8, best.encoding


def _bozo_reason(result: Any) -> str | None:
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    if exc is None:
        return "unknown problem"
    return f"{type(exc).__name__}: {exc}"


def _content(entry: Mapping[str, Any]) -> tuple[str, str]:
    """Prefer full content (content:encoded, Atom content) over summary/description."""
    candidates: list[Mapping[str, Any]] = []
    content = entry.get("content")
    if isinstance(content, list):
        htmlish = [c for c in content if isinstance(c, Mapping) and "html" in str(c.get("type"))]
        others = [c for c in content if isinstance(c, Mapping) and c not in htmlish]
        candidates.extend(htmlish + others)
    detail = entry.get("summary_detail")
    if isinstance(detail, Mapping):
        candidates.append(detail)
    elif entry.get("summary"):
        candidates.append({"value": entry.get("summary"), "type": "text/html"})
    for candidate in candidates:
        value = candidate.get("value")
        if isinstance(value, str) and value.strip():
            value = value.strip()
            declared = str(candidate.get("type") or "")
            if declared == "text/plain" or not _MARKUP_RE.search(value):
                return value, "text/plain"
            return value, "text/html"
    return "", "text/plain"


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return None


def _iso(value: Any) -> str | None:
    """feedparser's UTC ``struct_time`` → ``YYYY-MM-DDTHH:MM:SSZ``; None if absent or absurd."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        moment = datetime(*value[:6], tzinfo=UTC)
    except (ValueError, OverflowError):
        return None
    if not 1970 <= moment.year <= 9999:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
