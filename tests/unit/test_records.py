"""Raw records: one item, or a list of items (one poll's new items), each validated alone."""

from __future__ import annotations

import orjson
import pytest

from streams import records

GOOD = {
    "item_id": "a1",
    "feed": "f",
    "content": "text",
    "content_type": "text/plain",
    "fetched_at": "2026-11-20T08:00:00Z",
}


def test_one_item_and_a_list_decode_alike() -> None:
    [(element, item)] = records.decode_many(orjson.dumps(GOOD))
    assert element["item_id"] == "a1" and item == records.decode(orjson.dumps(GOOD))
    many = records.decode_many(orjson.dumps([GOOD, {**GOOD, "item_id": "a2"}]))
    assert [i["item_id"] for _, i in many if not isinstance(i, Exception)] == ["a1", "a2"]


def test_a_bad_element_costs_only_itself() -> None:
    out = records.decode_many(orjson.dumps([GOOD, {"item_id": "x"}, 7]))
    kinds = [type(i).__name__ for _, i in out]
    assert kinds == ["dict", "InvalidRecord", "InvalidRecord"]
    assert out[1][0] == {"item_id": "x"}  # the element itself, for the dead-letter record
    assert "missing required field" in str(out[1][1])


@pytest.mark.parametrize(
    ("data", "code"), [(None, "empty"), (b"{nope", "not_json"), (b"3", "not_object")]
)
def test_unreadable_records(data: bytes | None, code: str) -> None:
    [(element, err)] = records.decode_many(data)
    assert element is None and isinstance(err, records.InvalidRecord) and err.code == code
