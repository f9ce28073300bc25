"""Time parsing and formatting in one place: every time on our topics is RFC 3339 UTC with 'Z'."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(value: str | None) -> datetime | None:
    """RFC 3339 / ISO-8601 to an aware UTC datetime; None when absent or unreadable."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    """Millisecond precision, UTC, 'Z' suffix (what JSON Schema's date-time accepts)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso() -> str:
    return format_time(datetime.now(UTC))
