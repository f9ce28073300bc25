"""The agents: raw item -> units -> dedup stage 0 .. STAGES-1 -> events.

Each agent is a thin loop around the pure core (``streams.text``): decode, call, send. Units are
repartitioned by the stage key of their signature, so every duplicate meets its original in the
same partition, where a tumbling windowed table holds the recently first-seen units per key.
"""

from __future__ import annotations

import logging
import time
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


def _register_split(p: Pipeline) -> None:
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
            origin = f"{event.message.partition}:{event.message.offset}"
            for unit in units:
                UNITS.labels(unit.kind).inc()
                value = unit.to_json()
                value["origin"] = origin
                await p.units[0].send(key=unit.sig.keys[0], value=value)


def _register_stage(p: Pipeline, stage: int) -> None:
    table = p.dedup[stage]
    window = table.table.window
    size = p.settings.dedup_window_s
    last = stage == STAGES - 1

    @p.app.agent(p.units[stage], name=f"{p.settings.app_id}.dedup-s{stage}")
    async def dedup(stream: Any) -> None:
        async for event in stream.events():
            value = dict(event.value)
            origin = value.pop("origin", "")
            unit = Unit.from_json(value)
            key = unit.sig.keys[stage]
            windows = table[key]
            current_range = window.current(unit.ts)
            current = list(windows[current_range])
            previous = list(windows[window.current(unit.ts - size)])
            bucket = [Seen.from_json(entry[0]) for entry in previous + current]
            match = find_duplicate(unit.sig, bucket, unit.ts, size)
            if match is not None:
                if match.event_id == unit.event_id and _same_origin(previous + current, origin):
                    # Our own entry: this record is being replayed after a crash (at-least-once);
                    # go on so the event is surely emitted (consumers drop it by event_id).
                    pass
                else:
                    DUPLICATES.labels(str(stage)).inc()
                    continue
            else:
                kept = prune(
                    [Seen.from_json(e[0]) for e in current]
                    + [Seen(unit.event_id, unit.sig, unit.ts)],
                    unit.ts,
                    size,
                )
                origins = {Seen.from_json(e[0]).event_id: e[1] for e in current}
                origins[unit.event_id] = origin
                windows[current_range] = [[s.to_json(), origins.get(s.event_id, "")] for s in kept]
            if last:
                await _emit(p, unit)
            else:
                value["origin"] = origin
                await p.units[stage + 1].send(key=unit.sig.keys[stage + 1], value=value)


def _same_origin(entries: list[Any], origin: str) -> bool:
    return bool(origin) and any(len(e) > 1 and e[1] == origin for e in entries)


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
