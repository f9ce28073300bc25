"""What a stage agent does with a batch it cannot finish, without Kafka.

Faust's ``take_events`` acknowledges a batch when control returns to it, also when our code
raised; so a failed batch must stop the process before that (``_fail_batch``), and a record that
is not a unit list must become a dead letter rather than an exception (``_decode_units``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import orjson
from faust.types.tuples import ConsumerMessage

from streams.pipeline.agents import EXIT_BATCH_FAILED, _decode_units, _leave_unacked
from streams.pipeline.dlq import CODE_HEADER
from streams.text.units import units_from_item
from streams.topics import RAW_DLQ

ROOT = Path(__file__).resolve().parents[2]

# An agent loop over a generator that "acknowledges" its batch in a finally block, as
# take_events does; the batch body fails.
FAILING_AGENT = """
import asyncio, sys
from pathlib import Path
from streams.pipeline.agents import _fail_batch

async def take_events():
    try:
        yield ["record"]
    finally:
        Path(sys.argv[1]).write_text("acked")

async def agent():
    async for batch in take_events():
        try:
            raise RuntimeError("a bug in the batch")
        except Exception as exc:
            _fail_batch("test agent", exc)

asyncio.run(agent())
"""


def test_a_failed_batch_exits_before_it_is_acknowledged(tmp_path: Path) -> None:
    marker = tmp_path / "acked"
    proc = subprocess.run(
        [sys.executable, "-c", FAILING_AGENT, str(marker)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == EXIT_BATCH_FAILED, proc.stderr[-2000:]
    assert not marker.exists(), "the batch was acknowledged before the process stopped"
    assert "exiting without acknowledging it" in proc.stderr
    assert "a bug in the batch" in proc.stderr


def _event(partition: int, offset: int, value: bytes | None) -> SimpleNamespace:
    msg = SimpleNamespace(
        topic="app-units-s0-repartition", partition=partition, offset=offset, key=None, value=value
    )
    return SimpleNamespace(message=msg, value=value)


def test_malformed_unit_records_become_dead_letters_and_the_rest_is_decided() -> None:
    item = {
        "item_id": "i1",
        "feed": "f",
        "url": None,
        "title": None,
        "published": "2026-11-20T08:00:00Z",
        "fetched_at": "2026-11-20T08:00:00Z",
        "content": "A story about a bridge opened in Lviv on Monday, told in one long sentence.",
        "content_type": "text/plain",
    }
    units = units_from_item(item)
    good = orjson.dumps([u.to_json() for u in units])
    batch = [
        _event(0, 1, b"not json"),
        _event(1, 2, good),
        _event(0, 3, b'[{"event_id": "x"}]'),
        _event(2, 4, None),
    ]
    by_partition, dead = _decode_units(batch)
    assert {p: [u.event_id for u in us] for p, us in by_partition.items()} == {
        1: [u.event_id for u in units]
    }
    assert len(dead) == 3
    assert {r.topic for r in dead} == {RAW_DLQ}
    assert all(dict(r.headers or [])[CODE_HEADER] == b"bad_units" for r in dead)


class _Consumer:
    """Records what Faust's message acknowledgement hands to the consumer's bookkeeping."""

    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, message: ConsumerMessage) -> bool:
        self.acked.append(message.offset)
        return True


def _message(offset: int) -> ConsumerMessage:
    msg = ConsumerMessage("t", 0, offset, 0.0, 0, None, None, b"[]", None)
    msg.refcount = 1  # one stream holds it, as when take_events buffered it
    return msg


def test_events_left_to_a_new_owner_never_reach_the_offset_bookkeeping() -> None:
    # Pins the Faust behaviour _leave_unacked relies on: an event whose message is already
    # marked acked is skipped by the acknowledgement take_events makes afterwards.
    consumer = _Consumer()
    kept, left = _message(1), _message(2)
    _leave_unacked([SimpleNamespace(message=left)])
    for msg in (kept, left):
        msg.ack(cast(Any, consumer))
    assert consumer.acked == [1]
