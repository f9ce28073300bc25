"""When to poll a feed next.

Pure functions of (now, interval, consecutive errors, server hint, a random draw), so every
rule below is unit-tested without clocks or sleeps:

- success: the feed's base interval, lightly jittered so feeds added together drift apart;
- failure: ``interval * 2**errors`` (capped), jittered more, so a dead site is not hammered
  and many feeds failing together (our network down) do not retry in lock-step;
- a server's ``Retry-After`` (429/503) is a floor: we never come back earlier than asked,
  within a sane cap so a bogus header cannot park a feed for a year.
"""

from __future__ import annotations

from datetime import UTC
from email.utils import parsedate_to_datetime

SUCCESS_JITTER = 0.05
"""± fraction applied to the base interval after a good poll."""
ERROR_JITTER = 0.25
"""± fraction applied to the backoff delay after a failed poll."""
MAX_BACKOFF_S = 6 * 3600.0
"""Backoff never grows past this (but never below the feed's own interval)."""
MAX_RETRY_AFTER_S = 24 * 3600.0
"""Longest ``Retry-After`` we honour."""


def next_delay(
    interval_s: float,
    consecutive_errors: int,
    *,
    retry_after_s: float | None = None,
    rand: float = 0.5,
    max_backoff_s: float = MAX_BACKOFF_S,
) -> float:
    """Seconds until the next poll. ``rand`` is a uniform draw in [0, 1); 0.5 = no jitter."""
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    rand = min(max(rand, 0.0), 1.0)
    if consecutive_errors <= 0:
        delay = interval_s * (1.0 + SUCCESS_JITTER * (2.0 * rand - 1.0))
    else:
        cap = max(interval_s, max_backoff_s)
        # 2**errors overflows nothing below 60; past that the cap has long been reached.
        raw = interval_s * 2.0 ** min(consecutive_errors, 60)
        delay = min(cap, raw) * (1.0 + ERROR_JITTER * (2.0 * rand - 1.0))
    if retry_after_s is not None and retry_after_s > 0:
        delay = max(delay, min(retry_after_s, MAX_RETRY_AFTER_S))
    return delay


def next_poll_at(
    now: float,
    interval_s: float,
    consecutive_errors: int,
    *,
    retry_after_s: float | None = None,
    rand: float = 0.5,
    max_backoff_s: float = MAX_BACKOFF_S,
) -> float:
    """Absolute time (same clock as ``now``) of the next poll; see :func:`next_delay`."""
    return now + next_delay(
        interval_s,
        consecutive_errors,
        retry_after_s=retry_after_s,
        rand=rand,
        max_backoff_s=max_backoff_s,
    )


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now`` (Unix time): delta-seconds or an HTTP date.

    Returns None for a missing or unparsable header; a date in the past gives 0.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; RFC 9110 dates are GMT anyway
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


WEEK_S = 7 * 24 * 3600.0


def adaptive_interval(
    arrivals: list[tuple[float, int]], now: float, min_s: float, max_s: float
) -> float:
    """Interval from the feed's observed item rate, like Miniflux's entry-frequency scheduler.

    ``arrivals`` are (poll time, new items) of polls that found new items. Items seen in the
    last week spread over the week give one poll per expected new item, bounded to
    [``min_s``, ``max_s``]; a feed with nothing new in a week is polled at ``max_s``.
    """
    recent = sum(n for t, n in arrivals if now - t <= WEEK_S)
    if recent <= 0:
        return max_s
    return min(max_s, max(min_s, WEEK_S / recent))


def server_floor(headers: dict[str, str] | None, ttl_s: float | None, now: float) -> float:
    """The least interval the server asked for: RSS ``<ttl>``, ``Cache-Control: max-age``,
    ``Expires`` and ``Retry-After``, capped at :data:`MAX_RETRY_AFTER_S` (0 if none)."""
    floors = [ttl_s or 0.0]
    h = headers or {}
    cache = h.get("cache-control", "")
    for part in cache.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() in ("max-age", "s-maxage") and value.strip().strip('"').isdigit():
            floors.append(float(value.strip().strip('"')))
    expires = h.get("expires")
    if expires and "max-age" not in cache.lower():
        when = parse_retry_after(expires, now)
        if when is not None:
            floors.append(when)
    retry = parse_retry_after(h.get("retry-after"), now)
    if retry is not None:
        floors.append(retry)
    return min(max(floors), MAX_RETRY_AFTER_S)
