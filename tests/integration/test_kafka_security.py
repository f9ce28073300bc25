"""Kafka security end to end: a broker with a SASL_SSL listener (SCRAM users created at format
time, PLAIN users in JAAS) and a mutual-TLS listener, certificates made in the test.

The poller (``news-streams poll --once``), the worker (``news-streams worker``) and a plain
aiokafka consumer run against each listener with only ``NEWS_*`` settings; wrong credentials,
an untrusted CA and a missing client certificate fail within 10 s with a message that names
the setting to fix, and never print the password.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from streams import settings as settings_mod
from streams import topics
from streams.admin import wait_for_broker
from streams.broker import BrokerSecurity, EmbeddedBroker
from streams.feeds.devserver import FeedServer
from streams.kafka import KafkaAuthError, check_connection, client_kwargs
from streams.service_cli import create_all_topics
from tests.integration.conftest import free_ports
from tests.integration.stack import Worker, env_for, poll_once
from tests.integration.tls import TestPKI, make_pki

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "news-svc", "n3ws-Secret-pw"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def secure_broker(
    tmp_path_factory: pytest.TempPathFactory, pki: TestPKI
) -> Iterator[EmbeddedBroker]:
    settings = settings_mod.load()
    port, controller, sasl_port, ssl_port = free_ports(4)
    broker = EmbeddedBroker(
        port=port,
        controller_port=controller,
        data_dir=tmp_path_factory.mktemp("secure-kafka"),
        cache_dir=settings.cache_dir,
        kafka_version=settings.kafka_version,
        security=BrokerSecurity(
            keystore=pki.broker_keystore,
            truststore=pki.broker_truststore,
            store_password=pki.store_password,
            sasl_ssl_port=sasl_port,
            ssl_port=ssl_port,
            users={USER: PASSWORD},
        ),
    )
    try:
        broker.start(timeout=120)
        yield broker
    finally:
        broker.stop()


def security_env(broker: EmbeddedBroker, pki: TestPKI, mode: str, **extra: str) -> dict[str, str]:
    """``NEWS_*`` settings for one listener: ``sasl-<mechanism>`` or ``mtls``."""
    if mode == "mtls":
        env = {
            "NEWS_BOOTSTRAP_SERVERS": str(broker.ssl_bootstrap),
            "NEWS_KAFKA_SECURITY_PROTOCOL": "SSL",
            "NEWS_KAFKA_SSL_CAFILE": str(pki.ca_cert),
            "NEWS_KAFKA_SSL_CERTFILE": str(pki.client_cert),
            "NEWS_KAFKA_SSL_KEYFILE": str(pki.client_key),
        }
    else:
        env = {
            "NEWS_BOOTSTRAP_SERVERS": str(broker.sasl_ssl_bootstrap),
            "NEWS_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "NEWS_KAFKA_SASL_MECHANISM": mode.removeprefix("sasl-").upper(),
            "NEWS_KAFKA_SASL_USERNAME": USER,
            "NEWS_KAFKA_SASL_PASSWORD": PASSWORD,
            "NEWS_KAFKA_SSL_CAFILE": str(pki.ca_cert),
        }
    env.update(extra)
    return env


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["sasl-scram-sha-512", "sasl-scram-sha-256", "sasl-plain", "mtls"])
async def test_plain_clients_over_each_listener(
    secure_broker: EmbeddedBroker, pki: TestPKI, mode: str
) -> None:
    s = settings_mod.load(security_env(secure_broker, pki, mode))
    await check_connection(s)
    topic = f"test.security.{mode}.{uuid.uuid4().hex[:8]}"
    from streams.admin import create_topics

    await create_topics(s, [topic], partitions=1, replication_factor=1)
    producer = AIOKafkaProducer(acks="all", **client_kwargs(s))
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello over " + mode.encode())
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, auto_offset_reset="earliest", **client_kwargs(s))
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 30)
    finally:
        await consumer.stop()
    assert record.value == b"hello over " + mode.encode()


async def _events_consumer(s: settings_mod.Settings) -> AIOKafkaConsumer:
    """A plain consumer with the same settings, positioned at the current end of news.events."""
    consumer = AIOKafkaConsumer(**client_kwargs(s))
    await consumer.start()
    parts = [TopicPartition(topics.EVENTS, p) for p in range(s.partitions)]  # as created
    consumer.assign(parts)
    await consumer.seek_to_end(*parts)
    for tp in parts:
        await consumer.position(tp)
    return consumer


async def _read_events(
    consumer: AIOKafkaConsumer, want: int, timeout: float
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(out) < want:
        batch = await consumer.getmany(timeout_ms=500)
        for recs in batch.values():
            out.extend(orjson.loads(r.value) for r in recs)
    return out


@pytest.mark.timeout(300)
@pytest.mark.parametrize("mode", ["sasl-scram-sha-512", "mtls"])
async def test_poller_worker_consumer_end_to_end(
    secure_broker: EmbeddedBroker, pki: TestPKI, mode: str, tmp_path: Path
) -> None:
    sec = security_env(secure_broker, pki, mode)
    s = settings_mod.load(sec)
    await create_all_topics(s)
    consumer = await _events_consumer(s)
    async with FeedServer() as server:
        server.load_default_feeds(samples_only=True)
        feeds_file = tmp_path / "feeds.yaml"
        feeds_file.write_text(server.feeds_yaml())
        env = env_for(
            sec["NEWS_BOOTSTRAP_SERVERS"],
            tmp_path / "worker",
            f"sec-{mode}-{uuid.uuid4().hex[:6]}",
            **sec,
        )
        worker = Worker(env, tmp_path / "worker")
        try:
            polled = await asyncio.to_thread(poll_once, env, feeds_file)
            assert polled.returncode == 0, polled.stderr[-3000:]
            events = await _read_events(consumer, want=3, timeout=150)
            assert worker.alive(), worker.log_tail()
            assert len(events) >= 3, worker.log_tail()
        finally:
            await consumer.stop()
            await asyncio.to_thread(worker.stop)
    assert {e["kind"] for e in events} <= {"lead", "teaser"}
    assert all(e["schema_version"] == "1.0" for e in events)
    assert PASSWORD not in worker.log_path.read_text(errors="replace")
    assert PASSWORD not in polled.stdout + polled.stderr


BAD = {
    "wrong-password": (
        "sasl-scram-sha-512",
        {"NEWS_KAFKA_SASL_PASSWORD": "not-the-password"},
        "rejected the SASL credentials",
    ),
    "unknown-user": (
        "sasl-plain",
        {"NEWS_KAFKA_SASL_USERNAME": "mallory"},
        "rejected the SASL credentials",
    ),
    "untrusted-ca": ("sasl-scram-sha-256", {"CA": "rogue"}, "certificate is not trusted"),
    "no-client-cert": (
        "mtls",
        {"NEWS_KAFKA_SSL_CERTFILE": "", "NEWS_KAFKA_SSL_KEYFILE": ""},
        "TLS handshake failed",
    ),
}


def _bad_env(broker: EmbeddedBroker, pki: TestPKI, case: str) -> tuple[dict[str, str], str]:
    mode, extra, message = BAD[case]
    extra = dict(extra)
    if extra.pop("CA", None):
        extra["NEWS_KAFKA_SSL_CAFILE"] = str(pki.rogue_ca_cert)
    return security_env(broker, pki, mode, **extra), message


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", sorted(BAD))
async def test_refused_clients_fail_fast_in_process(
    secure_broker: EmbeddedBroker, pki: TestPKI, case: str
) -> None:
    """What the worker (preflight), the poller and the admin do: a refusal is final at once."""
    from streams.feeds.poller import run_poller

    env, message = _bad_env(secure_broker, pki, case)
    s = settings_mod.load(env, metrics_port=0)
    for name, attempt in (
        ("admin/worker preflight", wait_for_broker(s, timeout=60)),
        ("poller", run_poller(s, [])),
    ):
        started = time.monotonic()
        with pytest.raises(KafkaAuthError, match=message) as info:
            await asyncio.wait_for(attempt, 30)
        elapsed = time.monotonic() - started
        assert elapsed < 10, f"{name}: {elapsed:.1f}s"
        assert PASSWORD not in str(info.value) and "not-the-password" not in str(info.value)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("command", [["worker"], ["poll", "--once"], ["topics", "create"]])
def test_refused_commands_exit_with_a_clear_message(
    secure_broker: EmbeddedBroker, pki: TestPKI, command: list[str], tmp_path: Path
) -> None:
    env, message = _bad_env(secure_broker, pki, "wrong-password")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds: []\n")
    full = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    full.update(env, NEWS_DATA_DIR=str(tmp_path), NEWS_FEEDS_FILE=str(feeds), NEWS_METRICS_PORT="0")
    full["NEWS_WEB_PORT"] = str(free_ports(1)[0])
    full["PYTHONPATH"] = str(ROOT)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", *command],
        env=full,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
    assert proc.returncode == 3, err[-3000:]
    assert message in err and "NEWS_KAFKA_SASL_PASSWORD" in err, err[-3000:]
    assert "not-the-password" not in out + err
