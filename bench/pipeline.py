"""Pipeline throughput and latency on a real embedded broker, against a raw aiokafka baseline.

(a) baseline: a plain aiokafka consume -> produce pass-through of the same raw items (the floor
    cost of Python + Kafka); (b) the full Faust pipeline (split, two dedup stages, tag, emit) in a
    worker process. Both start idle, then N pre-encoded items are produced as fast as possible;
    throughput = N / (time until the last output record arrives). Then latency (fetched_at ->
    event on news.events) p50/p99 at a fixed offered rate. Results: bench/results/pipeline.json.

    python -m bench.pipeline [--items 2000] [--rate 50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.corpus import ROOT, raw_items
from streams import records, topics
from streams.admin import all_public_topics, create_topics
from streams.broker import EmbeddedBroker
from streams.settings import load
from streams.text.dedup import Deduplicator
from streams.text.units import units_from_item
from streams.times import now_iso, parse_time

RESULTS = ROOT / "bench" / "results" / "pipeline.json"
BATCH = 1_048_576
"""Producer batch size for both sides: aiokafka's 16 KB default holds ~6 seed-sized items."""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def expected_events(items: list[Any]) -> int:
    """How many events the pipeline must emit: the offline core on the same items."""
    dedup = Deduplicator(window_s=86400.0)
    return sum(
        1
        for item in items
        for unit in units_from_item(dict(item))
        if dedup.check(unit.sig, unit.event_id, unit.ts) is None
    )


async def _produce_all(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=5, acks="all", max_batch_size=BATCH
    )
    await producer.start()
    try:
        for key, value in values:
            await producer.send(topic, value=value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def _count_until(
    bootstrap: str, topic: str, target: int, timeout: float, started: asyncio.Event
) -> float:
    """Consume ``topic`` from the end; return the monotonic time the target-th record arrived."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest")
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)  # join and settle at the end of the topic
        started.set()
        seen = 0
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            seen += sum(len(v) for v in batch.values())
            if seen >= target:
                return time.monotonic()
        raise TimeoutError(f"only {seen} of {target} records on {topic} after {timeout}s")
    finally:
        await consumer.stop()


async def baseline(bootstrap: str, values: list[tuple[bytes, bytes]]) -> float:
    """Items/s of a plain aiokafka consume -> produce pass-through."""
    src, dst = "bench.baseline.in", "bench.baseline.out"
    await create_topics(bootstrap, [src, dst], partitions=6, replication_factor=1)
    stop = asyncio.Event()

    async def passthrough() -> None:
        consumer = AIOKafkaConsumer(
            src,
            bootstrap_servers=bootstrap,
            group_id="bench-baseline",
            auto_offset_reset="latest",
            enable_auto_commit=True,
        )
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap, linger_ms=5, acks="all", max_batch_size=BATCH
        )
        await consumer.start()
        await producer.start()
        try:
            while not stop.is_set():
                batch = await consumer.getmany(timeout_ms=100, max_records=1000)
                for recs in batch.values():
                    for r in recs:
                        await producer.send(dst, value=r.value, key=r.key)
        finally:
            await producer.stop()
            await consumer.stop()

    task = asyncio.create_task(passthrough())
    await asyncio.sleep(3)  # let the pass-through group join
    ready = asyncio.Event()
    counter = asyncio.create_task(_count_until(bootstrap, dst, len(values), 300, ready))
    await ready.wait()
    t0 = time.monotonic()
    await _produce_all(bootstrap, src, values)
    t1 = await counter
    stop.set()
    await task
    return len(values) / (t1 - t0)


def start_worker(bootstrap: str, data_dir: Path, app_id: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        NEWS_BOOTSTRAP_SERVERS=bootstrap,
        NEWS_DATA_DIR=str(data_dir),
        NEWS_APP_ID=app_id,
        NEWS_WEB_PORT=str(_free_port()),
        NEWS_LOG_LEVEL="WARNING",
    )
    log = open(data_dir / "worker.log", "wb")  # noqa: SIM115 - lives as long as the worker
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker"], env=env, stdout=log, stderr=log
    )


async def wait_worker_ready(bootstrap: str, timeout: float = 120) -> None:
    """A warm-up item goes through: the worker has joined and built its tables."""
    item = raw_items(1, feed="warmup", seed=999)[0]
    # Its own text: sharing teasers with the measured items would change their expected events.
    item["content"] = "Warm-up item\nThe pipeline warm-up item has a text of its own, " + str(
        time.time()
    )
    ready = asyncio.Event()
    counter = asyncio.create_task(_count_until(bootstrap, topics.EVENTS, 1, timeout, ready))
    await ready.wait()
    await _produce_all(bootstrap, topics.RAW, [(item["item_id"].encode(), records.encode(item))])
    await counter


async def pipeline(bootstrap: str, values: list[tuple[bytes, bytes]], n_events: int) -> float:
    ready = asyncio.Event()
    counter = asyncio.create_task(_count_until(bootstrap, topics.EVENTS, n_events, 900, ready))
    await ready.wait()
    t0 = time.monotonic()
    await _produce_all(bootstrap, topics.RAW, values)
    t1 = await counter
    return len(values) / (t1 - t0)


async def latency(bootstrap: str, rate: float, seconds: float) -> dict[str, float]:
    """Offer ``rate`` new items/s with fresh fetched_at; measure fetched_at -> event received."""
    n = max(1, int(rate * seconds))
    items = raw_items(n, feed="latency", seed=4242)
    lat: list[float] = []
    consumer = AIOKafkaConsumer(
        topics.EVENTS, bootstrap_servers=bootstrap, auto_offset_reset="latest"
    )
    await consumer.start()
    await consumer.getmany(timeout_ms=500)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=1, acks="all")
    await producer.start()
    done = asyncio.Event()

    async def consume() -> None:
        while not done.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for recs in batch.values():
                for r in recs:
                    ev = orjson.loads(r.value or b"{}")
                    if ev.get("feed") != "latency" or ev.get("kind") != "lead":
                        continue
                    t = parse_time(ev.get("first_seen_at"))
                    if t:
                        lat.append(now - t.timestamp())

    reader = asyncio.create_task(consume())
    start = time.monotonic()
    for i, item in enumerate(items):
        # A unique opening makes every lead new, so every item gives one latency sample.
        head, _, rest = item["content"].partition("\n")
        item["content"] = f"{head}\nLatency probe {i} at {time.time()}: {rest}"
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        item["fetched_at"] = now_iso()
        item["published"] = item["fetched_at"]
        await producer.send(topics.RAW, value=records.encode(item), key=item["item_id"].encode())
    await producer.flush()
    await asyncio.sleep(5)
    done.set()
    await reader
    await producer.stop()
    await consumer.stop()
    lat.sort()
    if not lat:
        return {"samples": 0}
    return {
        "samples": len(lat),
        "offered_items_per_s": rate,
        "p50_s": statistics.median(lat),
        "p99_s": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "max_s": lat[-1],
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    items = raw_items(args.items)
    values = [(it["item_id"].encode(), records.encode(it)) for it in items]
    n_events = expected_events(items)
    size = statistics.mean(len(it["content"]) for it in items)
    print(f"{len(items)} items, mean {size:.0f} chars, {n_events} expected events", flush=True)
    with tempfile.TemporaryDirectory(prefix="news-bench-") as tmp:
        s = load()
        broker = EmbeddedBroker(
            port=_free_port(),
            controller_port=_free_port(),
            data_dir=Path(tmp) / "broker",
            cache_dir=s.cache_dir,
            kafka_version=s.kafka_version,
            heap="1g",
        )
        broker.start()
        worker = None
        try:
            bootstrap = broker.bootstrap
            await create_topics(
                bootstrap, all_public_topics(_tags()), partitions=6, replication_factor=1
            )
            base = await baseline(bootstrap, values)
            print(f"raw aiokafka pass-through: {base:,.0f} items/s", flush=True)
            worker = start_worker(bootstrap, Path(tmp), "bench-pipeline")
            await wait_worker_ready(bootstrap)
            full = await pipeline(bootstrap, values, n_events)
            print(f"full pipeline:             {full:,.0f} items/s", flush=True)
            rate = args.rate or max(1.0, round(full * 0.5))
            lat = await latency(bootstrap, rate, args.seconds)
            print(
                f"latency at {rate:.0f} items/s: p50 {lat.get('p50_s', 0) * 1000:.0f} ms, "
                f"p99 {lat.get('p99_s', 0) * 1000:.0f} ms ({lat.get('samples')} samples)",
                flush=True,
            )
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(30)
            broker.stop()
    result = {
        "items": len(items),
        "mean_item_chars": size,
        "expected_events": n_events,
        "baseline_items_per_s": base,
        "pipeline_items_per_s": full,
        "ratio_pipeline_to_baseline": full / base,
        "latency": lat,
        "cpus": os.cpu_count(),
    }
    print(f"ratio pipeline / pass-through: {full / base:.2f}")
    return result


def _tags() -> list[str]:
    from streams.text.tag import ENTITY_TAGS, THEME_TAGS

    return [*ENTITY_TAGS, *THEME_TAGS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=0, help="latency offered rate (0 = half)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
