"""A FeedServer in its own process (so its CPU never stalls the poller under test)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnContext
from typing import Any

from streams.feeds.devserver import DevItem, FeedServer


def _items(prefix: str, n: int) -> list[DevItem]:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    return [
        DevItem(f"{prefix}-{i}", f"{prefix} headline {i}", f"https://dev.invalid/{prefix}/{i}",
                t0 + timedelta(minutes=i), f"{prefix} story {i}")
        for i in range(n)
    ]  # fmt: skip


def _serve(conn: Any, healthy: int) -> None:
    async def main() -> None:
        server = FeedServer()
        for i in range(healthy):
            server.add_feed(f"ok-{i}", _items(f"ok-{i}", 3))
        await server.start()
        conn.send(server.port)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
        await server.stop()

    asyncio.run(main())


@contextlib.contextmanager
def serve_in_process(ctx: SpawnContext, *, healthy: int = 0) -> Iterator[str]:
    """Yield the base URL (``http://127.0.0.1:<port>``) of a server in a child process."""
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(child, healthy), daemon=True)
    proc.start()
    try:
        if not parent.poll(30):
            raise RuntimeError("feed server process did not start in 30 s")
        yield f"http://127.0.0.1:{parent.recv()}"
    finally:
        with contextlib.suppress(OSError):
            parent.send("stop")
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join(5)
