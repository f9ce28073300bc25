"""The split agent's local shortcut for exact repeats: windowed and bounded."""

from __future__ import annotations

from streams.pipeline.core import RecentExact


def test_repeat_within_window_is_seen_once_recorded() -> None:
    r = RecentExact(window_s=100.0)
    assert r.seen(1, 1000.0) is False
    assert r.seen(1, 1050.0) is True
    assert r.seen(1, 950.0) is True  # out of order, still within the window
    assert r.seen(2, 1000.0) is False


def test_repeat_outside_window_is_new_again() -> None:
    r = RecentExact(window_s=100.0)
    assert r.seen(1, 1000.0) is False
    assert r.seen(1, 1200.0) is False
    assert r.seen(1, 1250.0) is True


def test_capacity_evicts_least_recent() -> None:
    r = RecentExact(window_s=100.0, capacity=2)
    r.seen(1, 0.0)
    r.seen(2, 0.0)
    r.seen(1, 1.0)  # 1 is now the most recent
    r.seen(3, 0.0)  # evicts 2
    assert r.seen(1, 2.0) is True
    assert r.seen(2, 2.0) is False
