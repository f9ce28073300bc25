"""The worker's text core in its pool: same units as the offline core, bad input as dead letters,
exact repeats dropped before they are serialised."""

from __future__ import annotations

import orjson
import xxhash

from streams import records
from streams.pipeline import core
from streams.pipeline.core import make_executor, split_values
from streams.text.units import units_from_item

TEXT = (
    "Headline of the story\n\n"
    "The first paragraph of the lead says what happened in the capital on Monday.\n\n"
    "The second paragraph of the lead adds detail, quotes and the numbers involved.\n\n"
    "Another story: the parliament voted on the budget late in the evening.\n\n"
    "Another story: a storm closed roads in the west of the country."
)
MB4 = 4 * 1024 * 1024


def _item(i: int, text: str = TEXT) -> dict[str, object]:
    return {
        "item_id": f"it-{i}",
        "feed": "f",
        "url": f"https://example.invalid/{i}",
        "title": None,
        "published": "2026-11-30T10:00:00Z",
        "fetched_at": "2026-11-30T10:00:05Z",
        "content": text,
        "content_type": "text/plain",
        "guid": f"g{i}",
    }


def _fresh() -> None:
    core._RECENT.clear()  # each test starts with an empty shortcut


def test_units_match_the_offline_core_and_repeats_are_dropped() -> None:
    _fresh()
    items = [_item(i) for i in range(3)]  # same text: the 2nd and 3rd are exact repeats
    values = [records.encode(records.validate(it)) for it in items]
    out = split_values(values, 0, MB4, 6, 3600.0)
    first = units_from_item(dict(records.validate(items[0])))
    assert out.items == 3 and not out.dead and len(out.seconds) == 3
    assert [orjson.loads(u[2]) for u in out.units] == [u.to_json() for u in first]
    for (ts, part, _data), unit in zip(out.units, first, strict=True):
        assert ts == unit.ts
        assert part == xxhash.xxh3_64_intdigest(unit.sig.keys[0].encode()) % 6
    assert sum(out.kinds.values()) == 3 * len(first)
    assert out.local == 2 * len(first)


def test_outside_the_window_a_repeat_is_forwarded_again() -> None:
    _fresh()
    a, b = _item(1), _item(2)
    b["published"] = "2026-11-30T12:00:00Z"
    b["fetched_at"] = "2026-11-30T12:00:05Z"
    values = [records.encode(records.validate(it)) for it in (a, b)]
    out = split_values(values, 0, MB4, 6, 60.0)
    assert out.local == 0 and len(out.units) == 2 * len(units_from_item(dict(a)))


def test_bad_input_becomes_dead_letters_with_their_place() -> None:
    _fresh()
    good = records.encode(records.validate(_item(1)))
    listed = orjson.dumps([_item(2, TEXT + "\n\nA different ending."), {"item_id": "x"}, 5])
    out = split_values([b"not json", good, listed, None], 10, MB4, 3, 3600.0)
    dead = [(d.record, d.index, d.code, d.single) for d in out.dead]
    assert dead == [
        (10, 0, "not_json", True),
        (12, 1, "missing_field", False),
        (12, 2, "not_object", False),
        (13, 0, "empty", True),
    ]
    assert out.items == 6  # the unreadable records count as one element each
    assert out.kinds.get("lead") == 2


def test_a_unit_too_large_to_pass_on_is_a_dead_letter() -> None:
    _fresh()
    big = "A long lead paragraph with words. " * 4000
    value = records.encode(records.validate(_item(1, f"Title\n\n{big}")))
    out = split_values([value], 0, 64 * 1024, 3, 3600.0)
    assert [d.code for d in out.dead] == ["too_large"] and not out.units
    # just under the limit passes: the cheap size bound only decides when to measure
    ok = split_values([value], 0, 2 * len(big) * 2, 3, 3600.0)
    assert not ok.dead and ok.units


def test_pool_runs_the_same_function() -> None:
    _fresh()
    pool, slices = make_executor(1)
    try:
        value = records.encode(records.validate(_item(1)))
        out = pool.submit(split_values, [value], 0, MB4, 6, 3600.0).result(timeout=60)
        assert slices == 1 and out.items == 1
        assert out.units == split_values([value], 0, MB4, 6, 3600.0).units
    finally:
        pool.shutdown()
