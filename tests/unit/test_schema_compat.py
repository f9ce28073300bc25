"""The event contract: what we emit validates; what consumers were promised keeps validating."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streams.events import HEADERS, SCHEMA_VERSION, build_event, schema, validation_errors
from streams.text.units import units_from_item

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "events.v1.examples.jsonl"


def _examples() -> list[dict[str, object]]:
    return [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line]


def test_schema_is_draft_2020_12_and_versioned() -> None:
    s = schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_VERSION.startswith("1.")
    assert dict(HEADERS)["schema-version"] == SCHEMA_VERSION.encode()


@pytest.mark.parametrize("example", _examples(), ids=lambda e: str(e["event_id"])[:4])
def test_published_v1_examples_still_validate(example: dict[str, object]) -> None:
    """Examples consumers built against: a schema edit that rejects one is a breaking change."""
    assert validation_errors(example) == []


def test_additive_minor_fields_are_allowed_but_required_fields_are_not_optional() -> None:
    event = dict(_examples()[0])
    event["new_optional_field"] = [1, 2]
    assert validation_errors(event) == []
    for field in schema()["required"]:
        broken = dict(event)
        del broken[field]
        assert validation_errors(broken), field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("schema_version", "2.0"),
        ("kind", "story"),
        ("fingerprint", "XYZ"),
        ("event_id", "short"),
        ("language", "de"),
        ("tags", ["NATO"]),
        ("first_seen_at", "yesterday"),
    ],
)
def test_schema_rejects_bad_values(field: str, value: object) -> None:
    event = dict(_examples()[0])
    event[field] = value
    assert validation_errors(event), (field, value)


def test_teaser_needs_its_source_and_lead_has_none() -> None:
    lead, teaser = _examples()[0], _examples()[1]
    assert validation_errors({**teaser, "source": None})
    assert validation_errors({**lead, "source": teaser["source"]})


def test_built_events_validate() -> None:
    item = {
        "item_id": "item-1",
        "feed": "test",
        "url": "https://example.invalid/1",
        "title": "Рютте: НАТО посилить підтримку України",
        "published": "2026-11-20T08:00:00Z",
        "fetched_at": "2026-11-20T08:00:03Z",
        "content": (
            "Генсек НАТО Марк Рютте заявив, що союзники посилять підтримку України.\n"
            "Він також повідомив про переговори з партнерами.\n"
            "У Польщі відкрили новий прикордонний пункт пропуску з Литвою. Про це повідомила "
            "прикордонна служба."
        ),
        "content_type": "text/plain",
    }
    units = units_from_item(item)
    assert units
    for unit in units:
        event = build_event(unit)
        assert validation_errors(event) == [], event
        assert event["schema_version"] == SCHEMA_VERSION
