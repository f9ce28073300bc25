"""The embedded Kafka broker for real: lifecycle, data kept across restarts, other processes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import socket
import subprocess
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams import topics
from streams.admin import all_public_topics, create_topics, list_topics
from streams.broker import BrokerError, EmbeddedBroker, _pid_alive
from tests.integration.conftest import TopicFactory, free_ports, make_broker

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a private loop in a worker thread (leaves pytest-asyncio's loop alone)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def produce(bootstrap: str, topic: str, key: bytes, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def consume_all(bootstrap: str, topic: str, expect: int, timeout: float = 30) -> list[bytes]:
    """Values of the first ``expect`` records of ``topic``, read from the beginning."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(timeout):
            while len(values) < expect:
                batch = await consumer.getmany(timeout_ms=500)
                values += [m.value for msgs in batch.values() for m in msgs if m.value is not None]
    finally:
        await consumer.stop()
    return values


async def test_produce_consume_roundtrip(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic("roundtrip", partitions=3)
    await produce(kafka_bootstrap, topic, b"k1", b"hello")
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"{topic}-group",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), 30)
        await consumer.commit()  # group coordinator (__consumer_offsets) works on one node
    finally:
        await consumer.stop()
    assert (msg.key, msg.value) == (b"k1", b"hello")


async def test_create_topics_is_idempotent(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    existing = await new_topic("exists")
    fresh = f"{existing}-fresh"
    created = await create_topics(
        kafka_bootstrap,
        [existing, fresh],
        partitions=2,
        replication_factor=1,
        configs={"cleanup.policy": "compact"},
    )
    assert created == [fresh]
    again = await create_topics(
        kafka_bootstrap, [existing, fresh], partitions=2, replication_factor=1
    )
    assert again == []
    assert {existing, fresh} <= await list_topics(kafka_bootstrap)


async def test_auto_topic_creation_is_off(kafka_bootstrap: str) -> None:
    name = f"test.never-created.{os.getpid()}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, request_timeout_ms=3000)
    await producer.start()
    try:
        with pytest.raises(Exception):  # noqa: B017 - aiokafka raises KafkaTimeoutError
            await asyncio.wait_for(producer.send_and_wait(name, b"x"), 10)
    finally:
        await producer.stop()
    assert name not in await list_topics(kafka_bootstrap)


def test_jvm_options_reach_the_broker(kafka_broker: EmbeddedBroker) -> None:
    """NEWS_BROKER_JVM_OPTS (default: C1 only) is on the running broker's command line."""
    pid = int(kafka_broker.pid_file.read_text().strip())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    wanted = kafka_broker.jvm_opts.split()
    assert wanted == ["-XX:TieredStopAtLevel=1"] or "NEWS_BROKER_JVM_OPTS" in os.environ
    assert all(opt.encode() in argv for opt in wanted)
    assert argv.index(b"kafka.Kafka") > max((argv.index(o.encode()) for o in wanted), default=0)


def test_all_public_topics_names() -> None:
    names = all_public_topics(["ukraine", "economy", "ukraine"])
    assert names == [
        topics.RAW,
        topics.RAW_DLQ,
        topics.EVENTS,
        "news.topic.economy",
        "news.topic.ukraine",
    ]


def test_lifecycle_restart_keeps_data(tmp_path: Path) -> None:
    broker = make_broker(tmp_path / "kafka")
    try:
        before = broker.status()
        assert before["running"] is False and before["pid"] is None
        assert before["bootstrap"] == f"127.0.0.1:{broker.port}"

        broker.start(timeout=120)
        up = broker.status()
        pid = up["pid"]
        assert up["running"] is True and isinstance(pid, int) and _pid_alive(pid)
        assert broker.pid_file.read_text().strip() == str(pid)
        meta = (broker.log_dir / "meta.properties").read_text()

        # A second start while running is a no-op: same process, still answering.
        broker.start()
        assert broker.status()["pid"] == pid

        topic = "test.lifecycle"
        run_sync(create_topics(broker.bootstrap, [topic], partitions=1, replication_factor=1))
        run_sync(produce(broker.bootstrap, topic, b"k", b"kept"))

        broker.stop()
        down = broker.status()
        assert down["running"] is False and down["pid"] is None
        assert not _pid_alive(pid), "the JVM must be gone after stop()"
        assert not Path(f"/proc/{pid}").exists()
        assert not broker.pid_file.exists()
        broker.stop()  # idempotent

        # Restart on the same data dir: no re-format (same cluster id), records still there.
        broker.start(timeout=120)
        assert (broker.log_dir / "meta.properties").read_text() == meta
        assert run_sync(consume_all(broker.bootstrap, topic, expect=1)) == [b"kept"]
    finally:
        broker.stop()
    assert not broker.status()["running"]


def test_start_stop_across_processes(tmp_path: Path) -> None:
    port, controller_port = free_ports(2)
    env = {
        **os.environ,
        "NEWS_DATA_DIR": str(tmp_path),
        "NEWS_BROKER_PORT": str(port),
        "NEWS_BROKER_CONTROLLER_PORT": str(controller_port),
    }

    def cli(action: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "streams.broker", action],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    # This process's view of the same broker (same settings -> same data dir and pid file).
    here = EmbeddedBroker(
        port=port,
        controller_port=controller_port,
        data_dir=tmp_path / "kafka",
        cache_dir=Path(env.get("NEWS_CACHE_DIR", Path.home() / ".cache" / "news-streams")),
        kafka_version=env.get("NEWS_KAFKA_VERSION", "4.0.0"),
    )
    try:
        started = cli("start")
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == f"127.0.0.1:{port}"
        status = here.status()
        assert status["running"] is True
        pid = status["pid"]
        assert isinstance(pid, int)

        stopped = cli("stop")
        assert stopped.returncode == 0, stopped.stderr
        assert not _pid_alive(pid)
        assert here.status()["running"] is False
        assert "running: False" in cli("status").stdout
    finally:
        here.stop()


def test_start_refuses_a_taken_port(tmp_path: Path) -> None:
    broker = make_broker(tmp_path / "kafka")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", broker.port))
        squatter.listen()
        with pytest.raises(BrokerError, match=f"127.0.0.1:{broker.port} is already in use"):
            broker.start()
    assert not broker.pid_file.exists()


def test_broker_error_names_missing_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither java nor mvn on PATH
    broker = make_broker(tmp_path / "kafka")
    with pytest.raises(BrokerError, match="openjdk-17-jre-headless"):
        broker.start()
    fresh = EmbeddedBroker(
        port=broker.port,
        controller_port=broker.controller_port,
        data_dir=tmp_path / "kafka",
        cache_dir=tmp_path / "empty-cache",
        kafka_version="4.0.0",
    )
    with pytest.raises(BrokerError, match="apt-get install -y maven"):
        fresh.ensure_jars()
