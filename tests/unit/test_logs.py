"""The repeat filter: one line per kind of client-library message per period, counts kept."""

from __future__ import annotations

import logging

import pytest

from streams.logs import RepeatFilter


def _record(name: str, msg: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_repeats_of_a_library_message_are_summarised(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("streams.logs.time.monotonic", lambda: clock[0])
    f = RepeatFilter(period=30.0)
    msg = "Unable connect to node with id %s: %s"
    assert f.filter(_record("aiokafka.conn", msg, 1, "refused"))
    passed = sum(f.filter(_record("aiokafka.conn", msg, 1, "refused")) for _ in range(500))
    assert passed == 0
    clock[0] += 31
    rec = _record("aiokafka.conn", msg, 1, "refused")
    assert f.filter(rec)
    assert "500 more like it" in rec.getMessage()


def test_own_messages_and_other_templates_pass() -> None:
    f = RepeatFilter(period=30.0)
    assert all(f.filter(_record("streams.pipeline", "state change")) for _ in range(5))
    assert f.filter(_record("aiokafka.conn", "a %s", 1))
    assert f.filter(_record("aiokafka.conn", "b %s", 1))
    assert not f.filter(_record("aiokafka.conn", "a %s", 2))
