"""The agents: raw item -> units -> dedup stage 0 .. STAGES-1 -> events.

Each agent is a thin loop around the pure core (``streams.text``): decode, call, send. Units are
repartitioned by the stage key of their signature, so every duplicate meets its original in the
same partition, where a tumbling windowed table holds the recently first-seen units per key.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

from streams import records
from streams.events import HEADERS, build_event, encode
from streams.metrics import (
    DUPLICATES,
    EVENT_LATENCY_SECONDS,
    EVENTS,
    PROCESS_SECONDS,
    RAW_CONSUMED,
    TAG_EVENTS,
    UNITS,
)
from streams.pipeline.app import Pipeline
from streams.pipeline.dlq import dead_letter
from streams.text.dedup import Seen, find_duplicate, prune
from streams.text.fingerprint import STAGES
from streams.text.units import Unit, units_from_item
from streams.times import parse_time

log = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    """Attach every agent to ``p.app``."""
    _register_split(p)
    for stage in range(STAGES):
        _register_stage(p, stage)


class RecentExact:
    """Exact fingerprints this worker forwarded recently (bounded, per process).

    A unit whose exact fingerprint was forwarded within the window is certain to be dropped at
    stage 0 (it finds that unit, or what that unit duplicated), so it is dropped here instead of
    costing a repartition round trip. Repeated teasers are most units on real sites. The cache
    is only a shortcut: empty after a restart, the tables still decide.
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


def _register_split(p: Pipeline) -> None:
    recent = RecentExact(p.settings.dedup_window_s)

    @p.app.agent(p.raw, name=f"{p.settings.app_id}.split")
    async def split_items(stream: Any) -> None:
        async for event in stream.events():
            RAW_CONSUMED.inc()
            try:
                item = records.decode(event.value)
            except records.InvalidRecord as exc:
                await dead_letter(p.dlq, event, str(exc), exc.code)
                continue
            started = time.perf_counter()
            try:
                units = units_from_item(dict(item))
            except Exception as exc:  # a core bug on odd input must not stop the stream
                log.exception("split failed for item %s", item.get("item_id"))
                await dead_letter(
                    p.dlq, event, f"processing failed: {type(exc).__name__}: {exc}", "processing"
                )
                continue
            PROCESS_SECONDS.observe(time.perf_counter() - started)
            for unit in units:
                UNITS.labels(unit.kind).inc()
                if recent.seen(unit.sig.exact, unit.ts):
                    DUPLICATES.labels("local").inc()
                    continue
                await p.units[0].send(key=unit.sig.keys[0], value=unit.to_json())


def _register_stage(p: Pipeline, stage: int) -> None:
    table = p.dedup[stage]
    window = table.table.window
    assert window is not None  # a tumbling table always has one
    size = p.settings.dedup_window_s
    last = stage == STAGES - 1

    @p.app.agent(p.units[stage], name=f"{p.settings.app_id}.dedup-s{stage}")
    async def dedup(stream: Any) -> None:
        async for event in stream.events():
            unit = Unit.from_json(event.value)
            windows = table[unit.sig.keys[stage]]
            current_range = window.current(unit.ts)
            current = [Seen.from_json(e) for e in windows[current_range]]
            previous = [Seen.from_json(e) for e in windows[window.current(unit.ts - size)]]
            # A unit meeting its own entry (same event_id) is a replay: Faust re-reads records
            # after a restart or rebalance. Dropping it keeps "none twice"; see README, Recovery.
            if find_duplicate(unit.sig, previous + current, unit.ts, size) is not None:
                DUPLICATES.labels(str(stage)).inc()
                continue
            # Send first, then record: if the agent is stopped in between, the replay finds no
            # entry and sends again (a repeat with the same event_id), rather than losing it.
            if last:
                await _emit(p, unit)
            else:
                await p.units[stage + 1].send(key=unit.sig.keys[stage + 1], value=event.value)
            kept = prune([*current, Seen(unit.event_id, unit.sig, unit.ts)], unit.ts, size)
            windows[current_range] = [s.to_json() for s in kept]


async def _emit(p: Pipeline, unit: Unit) -> None:
    event = build_event(unit)
    data = encode(event)
    key = event["event_id"].encode()
    await p.events.send(key=key, value=data, headers=HEADERS)
    for tag_id in event["tags"]:
        topic = p.tag_topics.get(tag_id)
        if topic is not None:
            await topic.send(key=key, value=data, headers=HEADERS)
            TAG_EVENTS.labels(tag_id).inc()
    EVENTS.labels(unit.kind).inc()
    fetched = parse_time(unit.fetched_at)
    if fetched is not None:
        EVENT_LATENCY_SECONDS.observe(max(0.0, time.time() - fetched.timestamp()))
