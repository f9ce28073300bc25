"""The raw-item record on ``news.raw``: one shape, produced by the poller, consumed by the worker.

Kept apart from the event schema: raw items are internal, events are the public contract.
"""

from __future__ import annotations

from typing import Any, TypedDict, cast

import orjson
import xxhash

from streams.times import parse_time as _parse_time

CONTENT_TYPES = ("text/html", "text/plain")
REQUIRED = ("item_id", "feed", "content", "content_type", "fetched_at")


class RawItem(TypedDict):
    """One feed entry as fetched. Times are ISO-8601 UTC strings (``...Z``) or None."""

    item_id: str
    feed: str
    url: str | None
    title: str | None
    published: str | None
    fetched_at: str
    content: str
    content_type: str
    guid: str | None


class InvalidRecord(ValueError):
    """A record on ``news.raw`` that cannot be processed; ``str(exc)`` is the DLQ reason.

    ``code`` is a short, low-cardinality category for metrics and the ``x-dlq-code`` header.
    """

    def __init__(self, message: str, code: str = "invalid_record") -> None:
        super().__init__(message)
        self.code = code


def make_item_id(feed_id: str, guid_or_link: str) -> str:
    """Stable id: the same entry polled twice gets the same id (and the same Kafka key)."""
    return xxhash.xxh3_128_hexdigest(f"{feed_id}\x1f{guid_or_link}".encode())[:24]


def encode(item: RawItem) -> bytes:
    return orjson.dumps(item)


def decode(data: bytes | None) -> RawItem:
    """Parse and validate a raw record; raise :class:`InvalidRecord` with a precise reason."""
    obj = _loads(data)
    if not isinstance(obj, dict):
        raise InvalidRecord(f"not a JSON object but {type(obj).__name__}", "not_object")
    return validate(obj)


def decode_many(data: bytes | None) -> list[tuple[Any, RawItem | InvalidRecord]]:
    """A record holding one raw item (an object) or several (a list: one poll's new items).

    Batching at the source makes the per-record cost of the stream (Faust, fetch, commit) a
    per-poll cost. Each element is validated on its own: one bad item costs only itself.
    Returns (the element as parsed, or None when the record itself is unreadable; the item or
    why it is invalid).
    """
    try:
        obj = _loads(data)
    except InvalidRecord as exc:
        return [(None, exc)]
    if isinstance(obj, dict):
        elements: list[Any] = [obj]
    elif isinstance(obj, list):
        elements = obj
    else:
        reason = f"not a JSON object or list but {type(obj).__name__}"
        return [(None, InvalidRecord(reason, "not_object"))]
    out: list[tuple[Any, RawItem | InvalidRecord]] = []
    for element in elements:
        if not isinstance(element, dict):
            reason = f"list element is {type(element).__name__}"
            out.append((element, InvalidRecord(reason, "not_object")))
            continue
        try:
            out.append((element, validate(element)))
        except InvalidRecord as exc:
            out.append((element, exc))
    return out


def _loads(data: bytes | None) -> Any:
    if data is None:
        raise InvalidRecord("empty record (no value)", "empty")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecord(f"not JSON: {exc}", "not_json") from None


def validate(obj: dict[str, Any]) -> RawItem:
    """Check one raw item object in place (optional fields default to None)."""
    missing = [k for k in REQUIRED if not obj.get(k)]
    if missing:
        raise InvalidRecord(f"missing required field(s): {', '.join(missing)}", "missing_field")
    for key in ("item_id", "feed", "content", "content_type", "fetched_at"):
        if not isinstance(obj[key], str):
            raise InvalidRecord(f"field {key!r} must be a string")
    if obj["content_type"] not in CONTENT_TYPES:
        raise InvalidRecord(f"unsupported content_type {obj['content_type']!r}")
    if _parse_time(obj["fetched_at"]) is None:
        raise InvalidRecord(f"fetched_at is not an ISO-8601 time: {obj['fetched_at']!r}")
    for key in ("url", "title", "published", "guid"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise InvalidRecord(f"field {key!r} must be a string or null")
        obj.setdefault(key, None)
    return cast(RawItem, obj)
