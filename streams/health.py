"""Liveness and readiness for processes that are not Faust workers (the poller).

``/healthz``: the process is alive: its event loop ticked recently (:meth:`Health.beat`).
``/readyz``: it can do its job: every named check is true (e.g. "producer_connected").
Both answer JSON with the checks; the status is 200 or 503, which is all probes look at.
The same server also serves Prometheus ``/metrics``, so one port covers scraping and probes.

The Faust worker's views live in :mod:`streams.pipeline.health` (same paths, same JSON).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

STALE_AFTER_S = 30.0
"""``/healthz`` fails when the event loop has not ticked for this long (a wedged process)."""


class Health:
    """Named readiness checks plus an event-loop heartbeat, set by the process's shell."""

    def __init__(self, checks: Iterable[str], stale_after_s: float = STALE_AFTER_S) -> None:
        self._checks: dict[str, bool] = dict.fromkeys(checks, False)
        self._lock = threading.Lock()
        self._beat = time.monotonic()
        self.stale_after_s = stale_after_s

    def set(self, name: str, ok: bool = True) -> None:
        with self._lock:
            self._checks[name] = ok

    def beat(self) -> None:
        self._beat = time.monotonic()

    def alive(self) -> dict[str, Any]:
        age = time.monotonic() - self._beat
        return {"alive": age < self.stale_after_s, "loop_age_s": round(age, 1)}

    def ready(self) -> dict[str, Any]:
        with self._lock:
            checks = dict(self._checks)
        return {"ready": bool(checks) and all(checks.values()), "checks": checks}

    async def heartbeat(self, interval: float = 1.0) -> None:
        """Run as a task: proves the loop is not blocked (``/healthz``)."""
        while True:
            self.beat()
            await asyncio.sleep(interval)


def _handler(health: Health, registry: CollectorRegistry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                body = health.alive()
                self._send(200 if body["alive"] else 503, orjson.dumps(body))
            elif path == "/readyz":
                body = health.ready()
                self._send(200 if body["ready"] else 503, orjson.dumps(body))
            else:
                self._send(404, b'{"error": "not found"}')

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds
            pass

    return Handler


def serve(
    health: Health, port: int, host: str = "127.0.0.1", registry: CollectorRegistry = REGISTRY
) -> ThreadingHTTPServer:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` from a daemon thread.

    Returns the server; ``server.shutdown(); server.server_close()`` stops it.
    """
    server = ThreadingHTTPServer((host, port), _handler(health, registry))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="health-http", daemon=True)
    thread.start()
    return server
