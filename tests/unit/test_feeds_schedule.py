"""Poll scheduling: base interval, capped exponential backoff with jitter, Retry-After floor."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.feeds.schedule import (
    ERROR_JITTER,
    MAX_BACKOFF_S,
    MAX_RETRY_AFTER_S,
    SUCCESS_JITTER,
    next_delay,
    next_poll_at,
    parse_retry_after,
)


def test_success_uses_base_interval() -> None:
    assert next_delay(300, 0) == 300
    assert next_poll_at(1000.0, 300, 0) == 1300.0


def test_success_jitter_is_small() -> None:
    assert next_delay(300, 0, rand=0.0) == pytest.approx(300 * (1 - SUCCESS_JITTER))
    assert next_delay(300, 0, rand=1.0) == pytest.approx(300 * (1 + SUCCESS_JITTER))


def test_backoff_doubles_per_error_and_is_capped() -> None:
    delays = [next_delay(60, errors) for errors in range(12)]
    assert delays[:5] == [60, 120, 240, 480, 960]
    assert max(delays) == MAX_BACKOFF_S
    assert delays == sorted(delays)


def test_backoff_never_below_interval_even_if_interval_exceeds_cap() -> None:
    day = 24 * 3600.0
    assert next_delay(day, 5) == day


def test_error_jitter_spreads_retries() -> None:
    low, high = next_delay(60, 2, rand=0.0), next_delay(60, 2, rand=0.999999)
    assert low == pytest.approx(240 * (1 - ERROR_JITTER))
    assert high == pytest.approx(240 * (1 + ERROR_JITTER), rel=1e-5)


def test_reset_on_success() -> None:
    assert next_delay(60, 0) < next_delay(60, 1)


def test_huge_error_counts_do_not_overflow() -> None:
    assert next_delay(60, 10_000) == MAX_BACKOFF_S


def test_retry_after_is_a_floor_with_a_cap() -> None:
    assert next_delay(60, 1, retry_after_s=3600) == 3600
    assert next_delay(60, 1, retry_after_s=10) == 120  # backoff already longer
    assert next_delay(60, 1, retry_after_s=10 * 365 * 86400) == MAX_RETRY_AFTER_S


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        next_delay(0, 0)


@given(
    interval=st.floats(min_value=0.1, max_value=86400),
    errors=st.integers(min_value=0, max_value=200),
    rand=st.floats(min_value=0, max_value=1),
    retry_after=st.none() | st.floats(min_value=0, max_value=10**9),
)
def test_delay_bounds(interval: float, errors: int, rand: float, retry_after: float | None) -> None:
    delay = next_delay(interval, errors, retry_after_s=retry_after, rand=rand)
    lower = interval * (1 - max(SUCCESS_JITTER, ERROR_JITTER))
    upper = max(interval, MAX_BACKOFF_S) * (1 + ERROR_JITTER)
    assert lower <= delay <= max(upper, MAX_RETRY_AFTER_S)
    if retry_after:
        assert delay >= min(retry_after, MAX_RETRY_AFTER_S)


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2026, 1, 1, 12, 2, tzinfo=UTC), usegmt=True)
    earlier = format_datetime(datetime(2026, 1, 1, 11, 0, tzinfo=UTC), usegmt=True)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(" 7 ", now) == 7
    assert parse_retry_after(later, now) == 120
    assert parse_retry_after(earlier, now) == 0
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:00 -0000", now) == 60
    assert parse_retry_after(None, now) is None
    assert parse_retry_after("", now) is None
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after("-5", now) is None
