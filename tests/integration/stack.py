"""Helpers to drive real processes in integration tests: the worker and the poller as the CLI
runs them (subprocesses), and plain aiokafka consumers as a downstream team would read topics."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from tests.integration.conftest import free_ports

ROOT = Path(__file__).resolve().parents[2]


def env_for(bootstrap: str, data_dir: Path, app_id: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update(
        NEWS_BOOTSTRAP_SERVERS=bootstrap,
        NEWS_DATA_DIR=str(data_dir),
        NEWS_APP_ID=app_id,
        NEWS_WEB_PORT=str(free_ports(1)[0]),
        NEWS_ALLOW_PRIVATE_HOSTS="1",
        NEWS_METRICS_PORT="0",
        NEWS_LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class Worker:
    """``news-streams worker`` in a subprocess, logs to ``data_dir/worker.log``."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.log_path = data_dir / "worker.log"
        self.web_port = int(env["NEWS_WEB_PORT"])
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
            start_new_session=True,
        )

    def log_tail(self, n: int = 60) -> str:
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM (a clean Faust shutdown: commit offsets, flush changelogs), then wait."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return int(self.proc.returncode)


def poll_once(env: dict[str, str], feeds_file: Path) -> subprocess.CompletedProcess[str]:
    """``news-streams poll --once`` as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "poll", "--once", "--feeds", str(feeds_file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord[Any, Any]]], bool] | None = None,
    timeout: float = 60.0,
    settle: float = 0.0,
) -> list[ConsumerRecord[Any, Any]]:
    """Every record of ``topic`` from the beginning, until ``until(records)`` holds (then
    ``settle`` more seconds to catch anything extra) or ``timeout`` passes."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    out: list[ConsumerRecord[Any, Any]] = []
    try:
        deadline = time.monotonic() + timeout
        settle_until: float | None = None
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=250)
            for recs in batch.values():
                out.extend(recs)
            if settle_until is None and until is not None and until(out):
                settle_until = time.monotonic() + settle
            if settle_until is not None and time.monotonic() >= settle_until:
                break
            if until is None and not batch:
                break
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return out
