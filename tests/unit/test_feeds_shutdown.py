"""A poller's shutdown steps are bounded: a hung Kafka close must not keep it from exiting."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from streams.feeds.group import _bounded


async def test_a_hung_step_is_left_behind_at_the_deadline(caplog: pytest.LogCaptureFixture) -> None:
    hung = asyncio.get_running_loop().create_future()  # never resolved: a close that hangs
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        await _bounded("the Kafka clients", hung, started + 0.3)
    assert 0.25 < time.monotonic() - started < 2.0
    assert hung.cancelled()
    assert "the Kafka clients did not stop in time" in caplog.text


async def test_a_finished_step_raises_its_error_unless_quiet() -> None:
    async def fails() -> None:
        raise RuntimeError("close failed")

    with pytest.raises(RuntimeError, match="close failed"):
        await _bounded("step", fails(), time.monotonic() + 5)
    await _bounded("loop", fails(), time.monotonic() + 5, quiet=True)


async def test_a_step_that_ignores_cancellation_does_not_hold_shutdown() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                continue  # swallows cancellation until released

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    task.cancel()
    started = time.monotonic()
    await _bounded("poll", task, started + 0.3, quiet=True)
    assert time.monotonic() - started < 2.0
    release.set()
    task.cancel()
    await task
