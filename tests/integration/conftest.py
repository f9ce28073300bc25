"""Integration fixtures: one real Kafka broker per test session, fresh topics per test.

Usage::

    async def test_roundtrip(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
        topic = await new_topic("raw", partitions=3)  # unique name, created and led
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        ...

``kafka_bootstrap`` starts an :class:`~streams.broker.EmbeddedBroker` (Kafka from the shared jar
cache, ``NEWS_CACHE_DIR`` or ~/.cache/news-streams) on a free port pair with its own temporary
data dir, and always stops it at the end of the session. ``NEWS_TEST_BOOTSTRAP=host:port`` uses
an already running broker instead. Every test under ``tests/integration`` is marked
``integration`` automatically.
"""

from __future__ import annotations

import atexit
import os
import re
import socket
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from streams import settings as settings_mod
from streams.admin import create_topics
from streams.broker import EmbeddedBroker

TopicFactory = Callable[..., Awaitable[str]]
"""``await new_topic(hint="t", *, partitions=1, configs=None) -> str`` (the new topic's name)."""

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.integration)


def free_ports(n: int = 2) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_broker(data_dir: Path) -> EmbeddedBroker:
    """A broker on fresh free ports with ``data_dir``, sharing the settings' jar cache."""
    settings = settings_mod.load()
    port, controller_port = free_ports(2)
    return EmbeddedBroker(
        port=port,
        controller_port=controller_port,
        data_dir=data_dir,
        cache_dir=settings.cache_dir,
        kafka_version=settings.kafka_version,
        heap="512m",
        jvm_opts=settings.broker_jvm_opts,
    )


def unique_topic_name(hint: str = "t", test_name: str = "") -> str:
    """A topic name no other test (or earlier run against the same broker) uses."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{test_name}.{hint}" if test_name else hint)
    return f"test.{slug.strip('.-')[:150]}.{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """The session's embedded broker (started once, stopped even if tests fail)."""
    broker = make_broker(tmp_path_factory.mktemp("kafka"))
    atexit.register(broker.stop)  # also on an interrupted session; stop() is idempotent
    try:
        broker.start(timeout=120)
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """``127.0.0.1:<port>`` of the session broker (or ``NEWS_TEST_BOOTSTRAP`` if set)."""
    external = os.environ.get("NEWS_TEST_BOOTSTRAP")
    if external:
        return external
    broker: EmbeddedBroker = request.getfixturevalue("kafka_broker")
    return broker.bootstrap


@pytest.fixture
def new_topic(kafka_bootstrap: str, request: pytest.FixtureRequest) -> TopicFactory:
    """Factory creating uniquely named topics for the current test."""

    async def make(
        hint: str = "t", *, partitions: int = 1, configs: dict[str, str] | None = None
    ) -> str:
        name = unique_topic_name(hint, request.node.name)
        await create_topics(
            kafka_bootstrap, [name], partitions=partitions, replication_factor=1, configs=configs
        )
        return name

    return make
