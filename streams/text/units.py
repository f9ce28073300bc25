"""From a raw item to units (its lead, each teaser) with signatures: the unit of dedup.

Pure: the Faust split agent and the offline ``process`` command call :func:`units_from_item`,
so what the CLI prints is what the stream emits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import xxhash

from streams.text.fingerprint import Signature, signature
from streams.text.page import is_whole_page, split_page
from streams.text.split import SplitResult, split
from streams.times import format_time, parse_time

LEAD = "lead"
TEASER = "teaser"
MAX_FUTURE_S = 300.0
"""A ``published`` more than this ahead of ``fetched_at`` is not trusted as event time."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One piece of text that is deduplicated and, when first seen, becomes an event."""

    event_id: str
    kind: str
    item_id: str
    feed: str
    item_url: str | None
    item_title: str | None
    text: str
    position: int
    link: str | None
    sig: Signature
    published_at: str | None
    fetched_at: str
    ts: float

    def to_json(self) -> dict[str, Any]:
        """Compact form carried on the internal repartition topics."""
        return {
            "event_id": self.event_id,
            "kind": self.kind,
            "item_id": self.item_id,
            "feed": self.feed,
            "item_url": self.item_url,
            "item_title": self.item_title,
            "text": self.text,
            "position": self.position,
            "link": self.link,
            "sig": self.sig.to_json(),
            "published_at": self.published_at,
            "fetched_at": self.fetched_at,
            "ts": self.ts,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Unit:
        fields = dict(data)
        fields["sig"] = Signature.from_json(data["sig"])
        return cls(**fields)


def event_time(published: str | None, fetched_at: str) -> float:
    """Dedup window time: the publication time, unless it is missing or in the future."""
    fetched = parse_time(fetched_at)
    fetched_ts = fetched.timestamp() if fetched else 0.0
    pub = parse_time(published)
    if pub is None:
        return fetched_ts
    pub_ts = pub.timestamp()
    if fetched is not None and pub_ts > fetched_ts + MAX_FUTURE_S:
        return fetched_ts
    return pub_ts


def make_event_id(item_id: str, kind: str, position: int) -> str:
    """Deterministic: reprocessing the same item yields the same ids (idempotent consumers)."""
    return xxhash.xxh3_128_hexdigest(f"{item_id}\x1f{kind}\x1f{position}".encode())


def split_item(content: str, content_type: str, url: str | None = None) -> SplitResult:
    """Split according to the content type; a lone headline-like line counts as the lead.

    A whole HTML page (a full-text fetch of the item's link) goes to the page extractor, with
    the item's URL so that teaser links become absolute.
    """
    if content_type == "text/html" and is_whole_page(content):
        result = split_page(content, url)
    elif content_type == "text/html":
        result = split(html=content)
    else:
        result = split(content)
    if not result.lead and not result.teasers and result.title:
        return SplitResult(
            title=None, lead=[result.title], teasers=[], boilerplate=result.boilerplate
        )
    return result


def units_from_item(item: dict[str, Any]) -> list[Unit]:
    """Split a validated raw item (see ``streams.records``) into its lead and teaser units."""
    result = split_item(item["content"], item["content_type"], item.get("url"))
    ts = event_time(item.get("published"), item["fetched_at"])
    published = parse_time(item.get("published"))
    fetched = parse_time(item["fetched_at"])
    common = {
        "item_id": item["item_id"],
        "feed": item["feed"],
        "item_url": item.get("url"),
        "item_title": item.get("title") or result.title,
        "published_at": format_time(published) if published else None,
        "fetched_at": format_time(fetched) if fetched else item["fetched_at"],
        "ts": ts,
    }
    units: list[Unit] = []
    if result.lead:
        text = "\n\n".join(result.lead)
        units.append(
            Unit(
                event_id=make_event_id(item["item_id"], LEAD, 0),
                kind=LEAD,
                text=text,
                position=0,
                link=None,
                sig=signature(text),
                **common,
            )
        )
    for teaser in result.teasers:
        units.append(
            Unit(
                event_id=make_event_id(item["item_id"], TEASER, teaser.position),
                kind=TEASER,
                text=teaser.text,
                position=teaser.position,
                link=teaser.link,
                sig=signature(teaser.text),
                **common,
            )
        )
    return units
