"""The feeds file: which feeds to poll and how often.

Format (YAML)::

    feeds:
      - id: kyiv-daily          # unique, becomes the ``feed`` field and part of every item id
        url: https://example.org/rss.xml
        interval_s: 120         # optional, default NEWS_POLL_INTERVAL_S
        enabled: true           # optional, default true
        full_text: auto         # optional: off | auto | always (true = always)
        schedule: adaptive      # optional: fixed | adaptive, default NEWS_POLL_SCHEDULE

At runtime the live list is the compacted topic ``news.feeds`` (key = feed id, value =
:func:`encode_feed`); this file only bootstraps it (feeds whose id the topic has never seen).

Errors name the file, the line and the feed, because the file is edited by hand and a typo
should be fixed in seconds, not debugged at runtime.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import yaml

ALLOWED_KEYS = frozenset({"id", "url", "interval_s", "enabled", "full_text", "schedule"})
FULL_TEXT_MODES = ("off", "auto", "always")
SCHEDULES = ("fixed", "adaptive")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class RegistryError(ValueError):
    """The feeds file is invalid; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed to poll. ``interval_s=None`` means the global default applies."""

    id: str
    url: str
    interval_s: float | None = None
    enabled: bool = True
    full_text: str | None = None
    """off | auto | always; None = ``NEWS_FULL_TEXT``."""
    schedule: str | None = None
    """fixed | adaptive; None = ``NEWS_POLL_SCHEDULE``."""
    token: str | None = None
    """Changed by ``feeds resume``: a poller seeing a new token clears disabled/failing state."""

    def interval(self, default_s: float) -> float:
        return self.interval_s if self.interval_s is not None else default_s


def encode_feed(feed: Feed) -> bytes:
    """The ``news.feeds`` record value of a feed."""
    return orjson.dumps(
        {
            "id": feed.id,
            "url": feed.url,
            "interval_s": feed.interval_s,
            "enabled": feed.enabled,
            "full_text": feed.full_text,
            "schedule": feed.schedule,
            "token": feed.token,
        }
    )


REMOVED = b'{"removed":true}'
"""Value of a removed feed: kept (not a tombstone) so the YAML bootstrap never re-adds it."""


def decode_feed(feed_id: str, value: bytes | None) -> Feed | None:
    """A ``news.feeds`` record → Feed, or None for a removed feed; RegistryError if invalid."""
    if value is None:
        return None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RegistryError(f"news.feeds record {feed_id!r}: not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise RegistryError(f"news.feeds record {feed_id!r}: not a JSON object")
    if data.get("removed"):
        return None
    token = data.pop("token", None)
    data = {k: v for k, v in data.items() if v is not None}
    feed = _validate(data, f"news.feeds record {feed_id!r}")
    return Feed(
        feed.id, feed.url, feed.interval_s, feed.enabled, feed.full_text, feed.schedule, token
    )


def load_feeds(path: Path | str) -> list[Feed]:
    """Read and validate a feeds file (all feeds, including disabled ones)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise RegistryError(f"{p}: cannot read feeds file: {exc.strerror or exc}") from None
    return parse_feeds(text, source=str(p))


def enabled(feeds: Iterable[Feed]) -> list[Feed]:
    return [f for f in feeds if f.enabled]


def parse_feeds(text: str, source: str = "<feeds>") -> list[Feed]:
    """Validate feeds YAML text. Line numbers come from the YAML node tree (1-based)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise RegistryError(f"{source}: not valid YAML: {exc}") from None
    if root is None:
        raise RegistryError(f"{source}: empty feeds file (expected a 'feeds:' list)")
    if not isinstance(root, yaml.MappingNode):
        raise RegistryError(f"{source}:{_line(root)}: top level must be a mapping with 'feeds:'")
    top = {k.value: v for k, v in root.value if isinstance(k, yaml.ScalarNode)}
    extra = sorted(set(top) - {"feeds"})
    if extra:
        raise RegistryError(f"{source}:{_line(root)}: unknown top-level key(s): {', '.join(extra)}")
    seq = top.get("feeds")
    if not isinstance(seq, yaml.SequenceNode):
        at = _line(seq) if seq is not None else _line(root)
        raise RegistryError(f"{source}:{at}: 'feeds' must be a list of feeds")

    loader = yaml.SafeLoader(text)
    feeds: list[Feed] = []
    first_line: dict[str, int] = {}
    for index, node in enumerate(seq.value):
        line = _line(node)
        where = f"{source}:{line}: feed #{index + 1}"
        if not isinstance(node, yaml.MappingNode):
            raise RegistryError(f"{where}: must be a mapping with at least 'id' and 'url'")
        data: Any = loader.construct_document(node)
        raw_id = data.get("id")
        if isinstance(raw_id, str):
            where = f"{source}:{line}: feed {raw_id!r}"
        feed = _validate(data, where)
        if feed.id in first_line:
            raise RegistryError(
                f"{where}: duplicate id (first defined on line {first_line[feed.id]})"
            )
        first_line[feed.id] = line
        feeds.append(feed)
    return feeds


def _validate(data: dict[str, Any], where: str) -> Feed:
    unknown = sorted(str(k) for k in set(data) - ALLOWED_KEYS)
    if unknown:
        allowed = ", ".join(sorted(ALLOWED_KEYS))
        raise RegistryError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {allowed})")
    feed_id = data.get("id")
    if not isinstance(feed_id, str) or not _ID_RE.match(feed_id):
        raise RegistryError(
            f"{where}: 'id' must be 1-100 characters of letters, digits, '.', '_' or '-', "
            f"starting with a letter or digit (got {feed_id!r})"
        )
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        raise RegistryError(f"{where}: 'url' is required and must be a string")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"{where}: 'url' must be an absolute http(s) URL (got {url!r})")
    try:
        _ = parts.port
    except ValueError:
        raise RegistryError(f"{where}: 'url' has an invalid port (got {url!r})") from None
    interval = data.get("interval_s")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise RegistryError(
                f"{where}: 'interval_s' must be a positive number (got {interval!r})"
            )
        interval = float(interval)
    is_enabled = data.get("enabled", True)
    if not isinstance(is_enabled, bool):
        raise RegistryError(f"{where}: 'enabled' must be true or false (got {is_enabled!r})")
    full_text = data.get("full_text")
    if full_text is True:
        full_text = "always"
    elif full_text is False:
        full_text = "off"
    if full_text is not None and full_text not in FULL_TEXT_MODES:
        raise RegistryError(f"{where}: 'full_text' must be off, auto or always (got {full_text!r})")
    schedule = data.get("schedule")
    if schedule is not None and schedule not in SCHEDULES:
        raise RegistryError(f"{where}: 'schedule' must be fixed or adaptive (got {schedule!r})")
    return Feed(
        id=feed_id,
        url=url,
        interval_s=interval,
        enabled=is_enabled,
        full_text=full_text,
        schedule=schedule,
    )


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
