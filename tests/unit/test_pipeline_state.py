"""PartitionState: the stream's per-partition dedup decisions, without Kafka.

It must (a) decide exactly as the offline Deduplicator does for the same order of units, (b) never
change its committed buckets before ``apply`` (the crash-safety rule), and (c) rebuild the same
state from its changelog records.
"""

from __future__ import annotations

from streams.pipeline.state import PartitionState, decode_bucket, encode_bucket
from streams.text.dedup import Deduplicator
from streams.text.fingerprint import STAGES
from streams.text.units import Unit, units_from_item


def _item(i: int, text: str, ts: str = "2026-11-20T08:00:00Z") -> dict[str, object]:
    return {
        "item_id": f"item-{i}",
        "feed": "f",
        "url": None,
        "title": None,
        "published": ts,
        "fetched_at": ts,
        "content": text,
        "content_type": "text/plain",
    }


TEASERS = [
    "Уряд ухвалив нове рішення щодо підтримки енергетики взимку, повідомили у міністерстві.",
    "NATO allies agreed on a new air-defence package for the eastern flank on Tuesday evening.",
    "В Киеве прошли учения спасателей: отрабатывали эвакуацию из станций метро и укрытий.",
]


def _units() -> list[Unit]:
    items = []
    for i in range(6):
        lead = f"Головна новина номер {i} про події дня, яка має власний текст і подробиці {i * 7}."
        items.append(_item(i, "\n".join([lead, *TEASERS[: 1 + i % 3]])))
    # the same story again, slightly edited: a near duplicate of item 0's lead
    items.append(
        _item(99, "Головна новина номер 0 про події дня, яка має власний текст і подробиці 0")
    )
    return [u for item in items for u in units_from_item(item)]


def _stream_decide(units: list[Unit], batch: int) -> set[str]:
    """Run the stages the way the worker does (one partition each), ``batch`` units at a time."""
    states = [PartitionState(s, 86400.0) for s in range(STAGES)]
    survivors = list(units)
    for state in states:
        kept = []
        for i in range(0, len(survivors), batch):
            decision = state.decide(survivors[i : i + batch])
            state.apply(decision)
            kept.extend(decision.kept)
        survivors = kept
    return {u.event_id for u in survivors}


def test_same_decisions_as_the_offline_deduplicator_for_any_batch_size() -> None:
    units = _units()
    offline = Deduplicator(86400.0)
    expected = {u.event_id for u in units if offline.check(u.sig, u.event_id, u.ts) is None}
    assert len(expected) < len(units)  # the fixture has duplicates to drop
    for batch in (1, 2, 5, len(units)):
        assert _stream_decide(units, batch) == expected


def test_decide_writes_nothing_until_apply() -> None:
    units = _units()
    state = PartitionState(0, 86400.0)
    decision = state.decide(units)
    assert decision.kept and decision.writes
    assert state.buckets == {}  # a crash now leaves no trace: the replay decides again
    again = state.decide(units)
    assert [u.event_id for u in again.kept] == [u.event_id for u in decision.kept]
    state.apply(decision)
    assert state.decide(units).kept == []  # committed: a replay is dropped


def test_restore_from_changelog_records_rebuilds_the_state() -> None:
    units = _units()
    state = PartitionState(0, 86400.0)
    decision = state.decide(units)
    state.apply(decision)
    changelog = [(k, encode_bucket(b)) for k, b in decision.writes.items()]
    restored = PartitionState(0, 86400.0)
    for key, value in changelog:
        restored.restore(key, value)
    assert restored.buckets == state.buckets
    assert restored.decide(units).kept == []
    restored.restore(changelog[0][0], None)  # a tombstone forgets the key
    assert changelog[0][0] not in restored.buckets
    assert decode_bucket(None) == []


def test_window_expiry_and_sweep() -> None:
    early = units_from_item(_item(1, TEASERS[0], "2026-11-20T08:00:00Z"))
    late = units_from_item(_item(2, TEASERS[0], "2026-11-22T08:00:00Z"))  # 48 h later
    state = PartitionState(0, 86400.0)
    state.apply(state.decide(early))
    assert state.decide(late).kept, "after the window a repeat is new again"
    state.apply(state.decide(late))
    assert state.sweep() == 0  # the key holds a live entry again
    far = units_from_item(
        _item(
            3, "Зовсім інший текст про погоду в Карпатах на вихідних днях.", "2026-11-25T08:00:00Z"
        )
    )
    state.apply(state.decide(far))
    assert state.sweep() >= 1 and len(state) == 1


def _counted(state: PartitionState) -> int:
    return sum(len(b) for b in state.buckets.values())


def test_entry_count_follows_every_change() -> None:
    """``len(state)`` is a running count (read after every batch): it must equal the buckets'
    sizes after decisions, restores, tombstones and sweeps."""
    units = _units()
    state = PartitionState(0, 86400.0)
    for i in range(0, len(units), 3):
        state.apply(state.decide(units[i : i + 3]))
        assert len(state) == _counted(state) > 0
    key = next(iter(state.buckets))
    state.restore(key, None)
    assert len(state) == _counted(state)
    state.restore(key, encode_bucket(state.decide(units).writes.get(key, [])))
    assert len(state) == _counted(state)
    far = units_from_item(_item(7, TEASERS[1], "2026-11-25T08:00:00Z"))
    state.apply(state.decide(far))
    assert state.sweep() >= 1
    assert len(state) == _counted(state) == len(far)
