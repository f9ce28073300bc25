"""The worker's text core in its pool: same units as the offline core, bad input as dead letters."""

from __future__ import annotations

import orjson
import xxhash

from streams import records
from streams.pipeline.core import make_executor, split_values
from streams.text.units import units_from_item

TEXT = (
    "Headline of the story\n\n"
    "The first paragraph of the lead says what happened in the capital on Monday.\n\n"
    "The second paragraph of the lead adds detail, quotes and the numbers involved.\n\n"
    "Another story: the parliament voted on the budget late in the evening.\n\n"
    "Another story: a storm closed roads in the west of the country."
)


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


def test_units_match_the_offline_core() -> None:
    items = [_item(i) for i in range(3)]
    values = [records.encode(records.validate(it)) for it in items]
    out = split_values(values, 0, 4 * 1024 * 1024, 6)
    expected = [u for it in items for u in units_from_item(dict(records.validate(it)))]
    assert out.items == 3 and not out.dead and len(out.seconds) == 3
    assert [orjson.loads(u[3]) for u in out.units] == [u.to_json() for u in expected]
    for (exact, ts, part, _data, kind), unit in zip(out.units, expected, strict=True):
        assert exact == unit.sig.exact and ts == unit.ts and kind == unit.kind
        assert part == xxhash.xxh3_64_intdigest(unit.sig.keys[0].encode()) % 6


def test_bad_input_becomes_dead_letters_with_their_place() -> None:
    good = records.encode(records.validate(_item(1)))
    listed = orjson.dumps([_item(2), {"item_id": "x"}, 5])
    out = split_values([b"not json", good, listed, None], 10, 4 * 1024 * 1024, 3)
    dead = [(d.record, d.index, d.code, d.single) for d in out.dead]
    assert dead == [
        (10, 0, "not_json", True),
        (12, 1, "missing_field", False),
        (12, 2, "not_object", False),
        (13, 0, "empty", True),
    ]
    assert out.items == 6  # the unreadable records count as one element each
    assert [u[4] for u in out.units][:1] == ["lead"]


def test_a_unit_too_large_to_pass_on_is_a_dead_letter() -> None:
    big = "A long lead paragraph with words. " * 4000
    value = records.encode(records.validate(_item(1, f"Title\n\n{big}")))
    out = split_values([value], 0, 64 * 1024, 3)
    assert [d.code for d in out.dead] == ["too_large"] and not out.units


def test_pool_runs_the_same_function() -> None:
    pool, slices = make_executor(1)
    try:
        value = records.encode(records.validate(_item(1)))
        out = pool.submit(split_values, [value], 0, 4 * 1024 * 1024, 6).result(timeout=60)
        assert (
            slices == 1
            and out.items == 1
            and out.units == split_values([value], 0, 4 * 1024 * 1024, 6).units
        )
    finally:
        pool.shutdown()
