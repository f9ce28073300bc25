"""The public event: built from a first-seen unit, validated against ``schemas/event.v1.json``.

One place for the contract other teams consume: schema version, Kafka headers, event shape.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import orjson

from streams.text.language import detect_language
from streams.text.tag import tag
from streams.text.units import LEAD, Unit

SCHEMA_MAJOR = 1
SCHEMA_VERSION = "1.0"
CONTENT_TYPE = "application/json"
HEADERS: list[tuple[str, bytes]] = [
    ("content-type", CONTENT_TYPE.encode()),
    ("schema-version", SCHEMA_VERSION.encode()),
]
"""Kafka headers on every event record."""


@cache
def schema() -> dict[str, Any]:
    text = resources.files("streams.schemas").joinpath(f"event.v{SCHEMA_MAJOR}.json").read_text()
    data: dict[str, Any] = json.loads(text)
    return data


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def validation_errors(event: dict[str, Any]) -> list[str]:
    """Human-readable schema violations ([] when valid); used by tests and the CLI."""
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in _validator().iter_errors(event)
    ]


def build_event(unit: Unit) -> dict[str, Any]:
    """Tag and shape a first-seen unit; tagging after dedup means repeats cost nothing."""
    is_lead = unit.kind == LEAD
    tag_text = f"{unit.item_title}\n{unit.text}" if is_lead and unit.item_title else unit.text
    return {
        "event_id": unit.event_id,
        "schema_version": SCHEMA_VERSION,
        "kind": unit.kind,
        "item_id": unit.item_id,
        "feed": unit.feed,
        "url": unit.item_url if is_lead else unit.link,
        "title": unit.item_title if is_lead else None,
        "text": unit.text,
        "language": detect_language(unit.text),
        "tags": tag(tag_text),
        "fingerprint": unit.sig.fingerprint,
        "published_at": unit.published_at,
        "first_seen_at": unit.fetched_at,
        "source": None
        if is_lead
        else {
            "item_id": unit.item_id,
            "url": unit.item_url,
            "title": unit.item_title,
            "position": unit.position,
        },
    }


def encode(event: dict[str, Any]) -> bytes:
    return orjson.dumps(event)
