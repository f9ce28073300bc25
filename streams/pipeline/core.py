"""The worker's text core, run in processes of its own.

The text core is pure Python: on a thread it holds the GIL, so a batch of it stalls every
Kafka round trip of the worker's event loop, and it can use one core only. Here it (splitting
raw items; tagging and language detection of first-seen units) runs in a small process pool
(``NEWS_CORE_PROCESSES``): the event loop only moves bytes, and the core uses the other cores.
What crosses the process boundary is bytes and plain tuples: the raw record values go in; for
each unit to forward its time, target partition and encoded JSON come out, so nothing is parsed
or serialised twice, and repeats dropped by the shortcut are never serialised at all.

This module imports no Kafka or asyncio code: a pool process imports only the text core.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
import xxhash

from streams import records
from streams.events import build_event, encode
from streams.procpool import spawn_pool
from streams.text.units import Unit, units_from_item


class RecentExact:
    """Exact fingerprints this process forwarded recently (bounded, per process).

    A unit whose exact fingerprint was forwarded within the window is certain to be dropped at
    stage 0 (it finds that unit, or what that unit duplicated), so it is dropped here instead of
    costing a hop. Repeated teasers are most units on real sites. Only a shortcut: empty after
    a restart, the stage state still decides. Safe under crashes: the worker sends the batch that
    first carried a remembered unit until the broker acknowledges it, and acks no input before
    that; if the worker dies first, its pool (and this memory) dies with it (``procpool``).
    """

    def __init__(self, window_s: float, capacity: int = 200_000) -> None:
        self.window_s = window_s
        self.capacity = capacity
        self._seen: OrderedDict[int, float] = OrderedDict()

    def seen(self, exact: int, ts: float) -> bool:
        """True if ``exact`` was recorded within the window of ``ts``; else record it."""
        prev = self._seen.get(exact)
        if prev is not None and abs(ts - prev) < self.window_s:
            self._seen.move_to_end(exact)
            return True
        self._seen[exact] = ts
        self._seen.move_to_end(exact)
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return False


_RECENT: dict[float, RecentExact] = {}
"""The shortcut of this process, by window (one in practice)."""


@dataclass(slots=True)
class Dead:
    """An element of a raw record that cannot become units, and why."""

    record: int
    """Index of the raw record in the batch."""
    index: int
    """Index of the item in the record (0 for a single item)."""
    element: Any
    """The element as parsed (None: the record itself is unreadable)."""
    reason: str
    code: str
    single: bool
    """The record held one item (not a list)."""


@dataclass(slots=True)
class CoreOut:
    """What the core made of a slice of a batch (picklable: plain data only)."""

    dead: list[Dead] = field(default_factory=list)
    units: list[tuple[float, int, bytes]] = field(default_factory=list)
    """(event time, stage-0 partition, unit JSON) per unit to forward."""
    kinds: dict[str, int] = field(default_factory=dict)
    """Units made, by kind (forwarded or not)."""
    local: int = 0
    """Units dropped by the exact-repeat shortcut."""
    items: int = 0
    seconds: list[float] = field(default_factory=list)
    """Core time of each item (the ``news_process_seconds`` histogram)."""
    errors: list[str] = field(default_factory=list)
    """Log lines for items the core failed on (logged by the parent)."""


def split_values(
    values: Sequence[bytes | None],
    first: int,
    limit: int,
    partitions: int,
    window_s: float,
    key_stage: int = 0,
) -> CoreOut:
    """Decode, validate and split raw record values ``first ..``; fingerprint every unit.

    A unit whose exact fingerprint this process forwarded within the window is dropped here
    (:class:`RecentExact`); the rest are serialised once, with their target partition of the
    stage-0 topic (``partitions`` of them) computed from their stage key.
    """
    recent = _RECENT.get(window_s)
    if recent is None:
        recent = _RECENT[window_s] = RecentExact(window_s)
    out = CoreOut()
    for offset, value in enumerate(values):
        rec = first + offset
        elements = records.decode_many(value)
        single = len(elements) == 1
        for index, (element, item) in enumerate(elements):
            out.items += 1
            if isinstance(item, records.InvalidRecord):
                out.dead.append(Dead(rec, index, element, str(item), item.code, single))
                continue
            started = time.perf_counter()
            try:
                units = units_from_item(dict(item))
            except Exception as exc:  # a core bug on odd input must not stop the stream
                out.errors.append(f"split failed for item {item.get('item_id')}: {exc!r}")
                reason = f"processing failed: {type(exc).__name__}: {exc}"
                out.dead.append(Dead(rec, index, item, reason, "processing", single))
                continue
            out.seconds.append(time.perf_counter() - started)
            if max(map(_json_bound, units), default=0) > limit // 2:  # rare: measure exactly
                encoded = max(len(orjson.dumps(u.to_json())) for u in units)
                if encoded > limit // 2:
                    reason = f"a unit of this item is too large to pass on (~{encoded:,} bytes)"
                    out.dead.append(Dead(rec, index, item, reason, "too_large", single))
                    continue
            for unit in units:
                out.kinds[unit.kind] = out.kinds.get(unit.kind, 0) + 1
                if recent.seen(unit.sig.exact, unit.ts):
                    out.local += 1
                    continue
                key = unit.sig.keys[key_stage].encode()
                part = xxhash.xxh3_64_intdigest(key) % partitions
                out.units.append((unit.ts, part, orjson.dumps(unit.to_json())))
    return out


def _json_bound(unit: Unit) -> int:
    """An upper bound of the unit's JSON size without encoding it (6 bytes per character: a
    control character escaped as \\u00XX; the fixed fields and the signature in 4 KiB)."""
    strings = (unit.text, unit.item_title, unit.item_url, unit.link, unit.feed, unit.item_id)
    return 6 * sum(len(s) for s in strings if s) + 4096


def build_events(units: list[dict[str, Any]]) -> list[tuple[str, bytes, list[str], str, str]]:
    """Events of first-seen units (language detection and tagging: the final stage's CPU).

    Returns (event id, encoded event, tags, kind, fetched_at) per unit, in order.
    """
    out: list[tuple[str, bytes, list[str], str, str]] = []
    for data in units:
        unit = Unit.from_json(data)
        event = build_event(unit)
        out.append((unit.event_id, encode(event), list(event["tags"]), unit.kind, unit.fetched_at))
    return out


_WARM_TEXT = (
    "Warm-up headline\n"
    "The first paragraph of a warm-up story, long enough to be taken for a lead paragraph.\n"
    "A second paragraph of the same warm-up story, with a few more words in it than that.\n"
    "Another story: a teaser line of a different story, as a news page would show it."
)


def _warm() -> None:
    """Load the core's models and compile its patterns before the first batch needs them."""
    item = {
        "item_id": "warm-up",
        "feed": "warm-up",
        "fetched_at": "2026-01-01T00:00:00Z",
        "content": _WARM_TEXT,
        "content_type": "text/plain",
    }
    out = split_values([orjson.dumps(item)], 0, 1 << 20, 1, 0.0)
    build_events([orjson.loads(u[2]) for u in out.units])


def make_executor(processes: int) -> tuple[Executor, int]:
    """The core's executor and how many slices a batch is cut into.

    ``processes`` 0 runs the core on one thread of the worker itself (no extra processes;
    the event loop shares the GIL with it).
    """
    if processes <= 0:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="text-core"), 1
    return spawn_pool(processes, warm=_warm), processes
