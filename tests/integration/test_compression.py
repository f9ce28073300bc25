"""NEWS_COMPRESSION on the real broker: the worker's producers write compressed batches that a
read_committed consumer reads back, in a transaction and outside one."""

from __future__ import annotations

import asyncio
import os

import pytest
from aiokafka import AIOKafkaConsumer

from streams import settings as settings_mod
from streams.broker import EmbeddedBroker
from streams.pipeline.output import Outputs, Record
from tests.integration.conftest import TopicFactory

pytestmark = pytest.mark.integration

EVENT = b'{"text": "' + b"the same teaser text again and again, " * 20 + b'"}'


async def read_committed(bootstrap: str, topic: str, expect: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        isolation_level="read_committed",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < expect:
                batch = await consumer.getmany(timeout_ms=500)
                values += [m.value for msgs in batch.values() for m in msgs if m.value is not None]
    finally:
        await consumer.stop()
    return values


@pytest.mark.parametrize("codec", ["zstd", "lz4", "snappy", "gzip", "none"])
async def test_outputs_roundtrip_with_compression(
    kafka_bootstrap: str, new_topic: TopicFactory, codec: str
) -> None:
    topic = await new_topic(f"compressed-{codec}")
    settings = settings_mod.load(
        {},
        bootstrap_servers=kafka_bootstrap,
        compression=codec,
        app_id=f"{topic}-app",
        processing_guarantee="exactly_once",
    )
    outputs = Outputs(settings)
    try:
        sent = [EVENT + str(i).encode() for i in range(200)]
        await outputs.commit(0, [Record(topic, v, key=b"k", partition=0) for v in sent[:100]])
        await outputs.send([Record(topic, v, key=b"k", partition=0) for v in sent[100:]])
    finally:
        await outputs.stop()
    assert await read_committed(kafka_bootstrap, topic, 200) == sent


async def test_compressed_topic_takes_less_disk(
    request: pytest.FixtureRequest, kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    """The setting really compresses: the same records take a fraction of the segment bytes."""
    if os.environ.get("NEWS_TEST_BOOTSTRAP"):
        pytest.skip("needs the embedded broker's log directory")
    broker: EmbeddedBroker = request.getfixturevalue("kafka_broker")
    sizes: dict[str, int] = {}
    for codec in ("none", "zstd"):
        topic = await new_topic(f"disk-{codec}")
        settings = settings_mod.load({}, bootstrap_servers=kafka_bootstrap, compression=codec)
        outputs = Outputs(settings)
        try:
            await outputs.send(
                [Record(topic, EVENT + str(i).encode(), partition=0) for i in range(500)]
            )
        finally:
            await outputs.stop()
        sizes[codec] = sum(f.stat().st_size for f in (broker.log_dir / f"{topic}-0").glob("*.log"))
    assert sizes["none"] > 500 * len(EVENT)
    assert sizes["zstd"] * 5 < sizes["none"], sizes
