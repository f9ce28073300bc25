"""Durable per-feed state: what a poller must remember so a restart or a move re-sends nothing.

One :class:`FeedState` per feed is the value of its record on ``news.feeds.state`` (compacted,
key = feed id). It is written in the same Kafka transaction as the items it accounts for, so
"items produced" and "items remembered as produced" cannot disagree after a crash.

The seen-item memory is an LRU of item id → content digest sized to the feed: at least twice
what the feed lists (items still listed are refreshed on every poll, so they are never the
ones evicted), never more than ``NEWS_FEED_SEEN_MAX``. It is stored packed (20 bytes per item)
so a 10,000-item feed's state is ~270 KB of JSON, well under the topic's message limit.
"""

from __future__ import annotations

import base64
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

ACTIVE = "active"
FAILING = "failing"
DISABLED = "disabled"
PAUSED = "paused"
"""Not a stored state: shown for feeds whose registry entry is paused."""
STATES = (ACTIVE, FAILING, DISABLED, PAUSED)

MIN_SEEN = 500
"""Seen capacity of a feed however few items it lists (feeds grow and shrink)."""
ARRIVALS_KEPT = 200
"""(time, new items) pairs kept for the adaptive schedule (about a week for busy feeds)."""
_ID_BYTES = 12
_DIGEST_BYTES = 8


class SeenItems:
    """LRU of item id (24 hex chars) → 64-bit content digest."""

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[tuple[str, int]] = ()) -> None:
        self._items: OrderedDict[str, int] = OrderedDict(items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._items

    def is_new(self, item_id: str, digest: int) -> bool:
        """True for an unknown id or a known one whose content changed."""
        return self._items.get(item_id) != digest

    def copy(self) -> SeenItems:
        clone = SeenItems()
        clone._items = self._items.copy()
        return clone

    def remember(self, listed: Iterable[tuple[str, int]], capacity: int) -> None:
        """Mark what a poll listed as most recent (in feed order) and trim to ``capacity``."""
        items = self._items
        for item_id, digest in listed:
            items[item_id] = digest
            items.move_to_end(item_id)
        while len(items) > capacity:
            items.popitem(last=False)

    def pack(self) -> str:
        raw = bytearray()
        for item_id, digest in self._items.items():
            raw += bytes.fromhex(item_id) + digest.to_bytes(_DIGEST_BYTES, "big")
        return base64.b64encode(bytes(raw)).decode("ascii")

    @classmethod
    def unpack(cls, text: str) -> SeenItems:
        raw = base64.b64decode(text)
        step = _ID_BYTES + _DIGEST_BYTES
        return cls(
            (raw[i : i + _ID_BYTES].hex(), int.from_bytes(raw[i + _ID_BYTES : i + step], "big"))
            for i in range(0, len(raw) - step + 1, step)
        )


def seen_capacity(listed: int, cap: int) -> int:
    """Remember at least twice what the feed lists (room for items dropping out and back)."""
    return min(cap, max(MIN_SEEN, 2 * listed))


@dataclass(slots=True)
class FeedState:
    """Everything a poller keeps about one feed between polls (and across restarts)."""

    feed_id: str
    url: str | None = None
    """URL after permanent redirects (None: the registry URL)."""
    origin_url: str | None = None
    """The registry URL ``url`` replaced; a new registry URL discards ``url``."""
    etag: str | None = None
    last_modified: str | None = None
    next_at: float = 0.0
    errors: int = 0
    status: str = ACTIVE
    last_outcome: str | None = None
    last_error: str | None = None
    last_code: int | None = None
    last_poll_at: float | None = None
    last_success_at: float | None = None
    floor_s: float = 0.0
    """Server-imposed minimum interval (``<ttl>``, max-age, Expires, Retry-After)."""
    ttl_s: float | None = None
    """The document's ``<ttl>`` as last parsed (a 304 has no document but the same ttl)."""
    body_hash: str | None = None
    """Digest of the last parsed body: a server without validators that sends the same bytes
    again costs no parse (Miniflux does the same)."""
    reset_token: str | None = None
    """The registry's resume token this state has seen (a new one clears disabled/failing)."""
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    """(poll time, new items) of recent polls that found new items: the item rate."""
    seen: SeenItems = field(default_factory=SeenItems)

    def evolve(self, **changes: Any) -> FeedState:
        """A copy with ``changes`` (the seen memory is shared unless replaced)."""
        return replace(self, **changes)

    def durable_view(self) -> tuple[Any, ...]:
        """The fields whose change must be written. A poll that changes none of them (a 304
        of a healthy feed: the common case) writes nothing; the outcome, poll time and next
        due time on record are then those of the last write."""
        return (
            self.url,
            self.origin_url,
            self.etag,
            self.last_modified,
            self.errors,
            self.status,
            self.floor_s,
            self.reset_token,
        )

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "v": 1,
                "feed_id": self.feed_id,
                "url": self.url,
                "origin_url": self.origin_url,
                "etag": self.etag,
                "last_modified": self.last_modified,
                "next_at": self.next_at,
                "errors": self.errors,
                "status": self.status,
                "last_outcome": self.last_outcome,
                "last_error": self.last_error,
                "last_code": self.last_code,
                "last_poll_at": self.last_poll_at,
                "last_success_at": self.last_success_at,
                "floor_s": self.floor_s,
                "ttl_s": self.ttl_s,
                "body_hash": self.body_hash,
                "reset_token": self.reset_token,
                "arrivals": self.arrivals,
                "seen": self.seen.pack(),
            }
        )

    @classmethod
    def from_json(cls, data: bytes) -> FeedState:
        obj = orjson.loads(data)
        return cls(
            feed_id=obj["feed_id"],
            url=obj.get("url"),
            origin_url=obj.get("origin_url"),
            etag=obj.get("etag"),
            last_modified=obj.get("last_modified"),
            next_at=float(obj.get("next_at") or 0.0),
            errors=int(obj.get("errors") or 0),
            status=obj.get("status") or ACTIVE,
            last_outcome=obj.get("last_outcome"),
            last_error=obj.get("last_error"),
            last_code=obj.get("last_code"),
            last_poll_at=obj.get("last_poll_at"),
            last_success_at=obj.get("last_success_at"),
            floor_s=float(obj.get("floor_s") or 0.0),
            ttl_s=obj.get("ttl_s"),
            body_hash=obj.get("body_hash"),
            reset_token=obj.get("reset_token"),
            arrivals=[(float(t), int(n)) for t, n in obj.get("arrivals") or []],
            seen=SeenItems.unpack(obj.get("seen") or ""),
        )
