"""Parsing off the event loop: feedparser and charset detection in a process pool.

A 9 MB feed takes seconds of pure-Python CPU in feedparser; on the event loop that stalls every
other feed's fetch and schedule. Fetching stays async in the poller; bodies go to worker
processes (one per CPU by default), results (items, digests, ``<ttl>``) come back pickled.
A worker that dies (OOM, segfault in a C extension) breaks the pool: it is rebuilt and that
one parse is reported as an error.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from streams.feeds.parse import ParseError, ParseResult, parse_feed
from streams.procpool import spawn_pool


def _parse(
    feed_id: str, body: bytes, headers: dict[str, str], url: str | None, fetched_at: str
) -> ParseResult:
    return parse_feed(feed_id, body, headers=headers, url=url, fetched_at=fetched_at)


class ParsePool:
    """``await pool.parse(...)`` runs :func:`~streams.feeds.parse.parse_feed` in a process."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes if processes > 0 else (os.cpu_count() or 1)
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: safe beside the threads of aiokafka/prometheus; the workers are our own
            # children (no fork server left behind), joined by close(), and die with the
            # poller if it is killed (``streams.procpool``).
            self._executor = spawn_pool(self.processes)
        return self._executor

    async def parse(
        self,
        feed_id: str,
        body: bytes,
        *,
        headers: Mapping[str, str],
        url: str | None,
        fetched_at: str,
    ) -> ParseResult:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._pool(), _parse, feed_id, body, dict(headers), url, fetched_at
            )
        except BrokenProcessPool:
            self.close(wait=False)
            raise ParseError("parser process died (pool rebuilt)") from None

    def close(self, wait: bool = True) -> None:
        """Stop the workers; ``wait``: until they have exited (nothing outlives the poller)."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None
