"""Soak: many items through one worker with a short dedup window; is memory flat?

Pushes N items (default 500,000) to ``news.raw`` of a fresh app on an embedded broker of its
own, at a steady rate, with ``published`` = the time each item is produced, so with
``NEWS_DEDUP_WINDOW_S=60`` the dedup window turns over many times during the run. Items are
recombined cheaply from the shared excerpts: a headline, two or three paragraphs drawn from the
whole corpus, and a block of teasers from a small pool (teasers repeat, leads mostly do not),
each with a unique id. Every few seconds it samples the worker's RSS (/proc), the size of its
local table store (``NEWS_DATA_DIR/faust``), the size of the dedup changelog topics in the
broker's log dir, items consumed (committed offsets of the app's group on ``news.raw``) and
events emitted. Writes ``bench/results/soak.png`` (RSS and table sizes over time) and
``bench/results/soak.json``; prints peak RSS and the slope of RSS over the second half.

    python -m bench.soak [--items 500000] [--rate 250] [--window-s 60] [--sample-s 5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from bench.corpus import ROOT, SharedMissing, excerpts
from bench.procstat import rss_bytes
from streams import topics
from streams.records import RawItem, make_item_id
from tests.integration.chaos import WorkerProc, create_public_topics, new_broker, worker_env

RESULTS = ROOT / "bench" / "results"


def soak_items(n: int, *, seed: int = 3, teasers: int = 10) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) of ``n`` raw items, published now (at generation time)."""
    rng = random.Random(seed)
    pool = [
        [p for p in row["text"].split("\n") if len(p) > 40] for row in excerpts() if row.get("text")
    ]
    pool = [paras for paras in pool if len(paras) >= 3]
    paragraphs = [p for paras in pool for p in paras[1:]]
    ledes = [paras[0] for paras in pool]
    teaser_pool = ledes[:300]
    run = uuid.uuid4().hex[:8]
    for i in range(n):
        head = rng.choice(ledes)[:100]
        lead = rng.sample(paragraphs, rng.randint(2, 3))
        block = [rng.choice(teaser_pool) for _ in range(teasers)]
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        guid = f"soak-{run}-{i}"
        item = RawItem(
            item_id=make_item_id("soak", guid),
            feed="soak",
            url=f"https://example.invalid/soak/{i}",
            title=None,
            published=now,
            fetched_at=now,
            content="\n".join([head, *lead, *block]),
            content_type="text/plain",
            guid=guid,
        )
        yield item["item_id"].encode(), orjson.dumps(item)


def dir_bytes(path: Path, contains: str = "", suffix: str = "") -> int:
    """Bytes of the files under ``path`` (in folders whose path has ``contains``, with names
    ending in ``suffix``: ``.log`` for Kafka segments, whose index files are preallocated)."""
    total = 0
    if not path.exists():
        return 0
    for root, _dirs, files in os.walk(path):
        if contains and contains not in root:
            continue
        for f in files:
            if suffix and not f.endswith(suffix):
                continue
            try:
                total += (Path(root) / f).stat().st_size
            except OSError:
                continue
    return total


async def produce(bootstrap: str, n: int, rate: float, state: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=1_048_576
    )
    await producer.start()
    try:
        t0 = time.monotonic()
        for i, (key, value) in enumerate(soak_items(n)):
            await producer.send(topics.RAW, value=value, key=key)
            state["produced"] = i + 1
            if rate and i % 50 == 49:
                delay = t0 + (i + 1) / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
        await producer.flush()
    finally:
        await producer.stop()


async def count_events(bootstrap: str, state: dict[str, Any], stop: asyncio.Event) -> None:
    consumer = AIOKafkaConsumer(
        topics.EVENTS, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
            state["events"] += sum(len(v) for v in batch.values())
    finally:
        await consumer.stop()


async def consumed(admin: AIOKafkaAdminClient, group: str, partitions: int) -> int | None:
    """Items the app's group has committed on ``news.raw`` (None while it has no coordinator)."""
    tps = [TopicPartition(topics.RAW, p) for p in range(partitions)]
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=tps)
    except KafkaError:
        return None
    return sum(max(0, om.offset) for om in offsets.values())


def slope_per_min(samples: list[dict[str, Any]], key: str) -> float:
    """Least-squares slope of ``key`` (bytes) over time in the second half, in MB/min."""
    half = samples[len(samples) // 2 :]
    if len(half) < 3:
        return 0.0
    xs = [s["t"] for s in half]
    ys = [s[key] / 1e6 for s in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    den = sum((x - mx) ** 2 for x in xs) or 1.0
    return 60.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den


def plot(samples: list[dict[str, Any]], path: Path, title: str) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -e '.[dev]'): no PNG", file=sys.stderr)
        return False
    ts = [s["t"] / 60 for s in samples]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ax.plot(ts, [s["rss"] / 1e6 for s in samples], label="worker RSS", color="tab:red")
    ax.plot(ts, [s["store"] / 1e6 for s in samples], label="local table store", color="tab:blue")
    ax.plot(ts, [s["changelog"] / 1e6 for s in samples], label="dedup changelogs", color="tab:cyan")
    ax.set_xlabel("minutes")
    ax.set_ylabel("MB")
    ax2 = ax.twinx()
    ax2.plot(ts, [s["consumed"] / 1000 for s in samples], label="items consumed", color="grey")
    ax2.set_ylabel("thousand items consumed")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left", fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="news-soak-") as tmp:
        work = Path(tmp)
        broker = new_broker(work / "kafka", heap="768m")
        await asyncio.to_thread(broker.start, 120)
        app_id = f"soak-{uuid.uuid4().hex[:6]}"
        env = worker_env(
            broker.bootstrap,
            work / "w1",
            app_id,
            args.guarantee,
            NEWS_DEDUP_WINDOW_S=str(args.window_s),
            NEWS_DEDUP_EXPIRES_S=str(args.expires_s or 2 * args.window_s),
            NEWS_LOG_LEVEL="WARNING",
            NEWS_PARTITIONS=str(args.partitions),
        )
        await asyncio.to_thread(create_public_topics, env, args.partitions)
        worker = WorkerProc(env, "soak")
        worker.start()
        state: dict[str, Any] = {"produced": 0, "events": 0}
        stop = asyncio.Event()
        counter = asyncio.create_task(count_events(broker.bootstrap, state, stop))
        producer = asyncio.create_task(produce(broker.bootstrap, args.items, args.rate, state))
        admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
        await admin.start()
        samples: list[dict[str, Any]] = []
        t0 = time.monotonic()
        last_progress = (0, t0)
        try:
            while True:
                await asyncio.sleep(args.sample_s)
                done = await consumed(admin, app_id, args.partitions)
                if done is None:
                    done = samples[-1]["consumed"] if samples else 0
                now = time.monotonic()
                sample = {
                    "t": now - t0,
                    "rss": rss_bytes(worker.pid),
                    "store": dir_bytes(work / "w1" / "faust"),
                    "changelog": dir_bytes(broker.log_dir, "dedup-s", ".log"),
                    "produced": state["produced"],
                    "consumed": done,
                    "events": state["events"],
                }
                samples.append(sample)
                print(
                    f"{sample['t']:7.0f} s  RSS {sample['rss'] / 1e6:7.1f} MB  store "
                    f"{sample['store'] / 1e6:6.1f} MB  changelogs {sample['changelog'] / 1e6:6.1f}"
                    f" MB  produced {sample['produced']:,}  consumed {done:,}  events "
                    f"{state['events']:,}",
                    flush=True,
                )
                if not worker.alive():
                    print("worker died:\n" + worker.log_tail(), file=sys.stderr)
                    break
                if done > last_progress[0]:
                    last_progress = (done, now)
                if done >= args.items:
                    break
                if now - last_progress[1] > args.stall_s:
                    print(f"no progress for {args.stall_s:.0f} s; stopping", file=sys.stderr)
                    break
        finally:
            stop.set()
            producer.cancel()
            for task in (producer, counter):
                with contextlib.suppress(BaseException):  # the cancelled producer
                    await task
            await admin.close()
            worker.stop(60)
            await asyncio.to_thread(broker.stop)
    elapsed = samples[-1]["t"] if samples else 0.0
    peak = max((s["rss"] for s in samples), default=0)
    slope = slope_per_min(samples, "rss")
    half = samples[len(samples) // 2 :]
    mean_half = sum(s["rss"] for s in half) / max(1, len(half)) / 1e6
    span_min = (half[-1]["t"] - half[0]["t"]) / 60 if len(half) > 1 else 0.0
    growth = slope * span_min
    flat = abs(growth) <= 0.05 * mean_half
    return {
        "items": args.items,
        "consumed": samples[-1]["consumed"] if samples else 0,
        "events": samples[-1]["events"] if samples else 0,
        "rate": args.rate,
        "window_s": args.window_s,
        "windows_turned_over": elapsed / args.window_s,
        "guarantee": args.guarantee,
        "elapsed_s": elapsed,
        "peak_rss_mb": peak / 1e6,
        "second_half_rss_slope_mb_per_min": slope,
        "second_half_growth_mb": growth,
        "second_half_mean_rss_mb": mean_half,
        "flat": flat,
        "store_slope_mb_per_min": slope_per_min(samples, "store"),
        "changelog_slope_mb_per_min": slope_per_min(samples, "changelog"),
        "peak_store_mb": max((s["store"] for s in samples), default=0) / 1e6,
        "peak_changelog_mb": max((s["changelog"] for s in samples), default=0) / 1e6,
        "cpus": os.cpu_count(),
        "note": "measured on a shared, loaded machine",
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--rate", type=float, default=250.0, help="items/s offered (0 = max)")
    parser.add_argument("--window-s", type=float, default=60.0)
    parser.add_argument("--expires-s", type=float, default=0.0, help="0 = 2 windows")
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--stall-s", type=float, default=180.0, help="stop after no progress")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--guarantee", default="at_least_once")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # retries at start are expected
    try:
        result = asyncio.run(main_async(args))
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    title = (
        f"soak: {result['consumed']:,} items, window {args.window_s:.0f} s "
        f"({result['windows_turned_over']:.0f} windows), {args.guarantee}"
    )
    png = args.out / "soak.png"
    if plot(result["samples"], png, title):
        print(f"written {png}")
    (args.out / "soak.json").write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))
    print(
        f"peak RSS {result['peak_rss_mb']:.0f} MB; second half: slope "
        f"{result['second_half_rss_slope_mb_per_min']:+.2f} MB/min, growth "
        f"{result['second_half_growth_mb']:+.1f} MB on a mean of "
        f"{result['second_half_mean_rss_mb']:.0f} MB -> memory "
        f"{'FLAT' if result['flat'] else 'NOT flat'} (threshold 5 %); peak table store "
        f"{result['peak_store_mb']:.1f} MB (slope {result['store_slope_mb_per_min']:+.2f} MB/min), "
        f"peak dedup changelogs {result['peak_changelog_mb']:.1f} MB "
        f"(slope {result['changelog_slope_mb_per_min']:+.2f} MB/min)"
    )
    print(f"written {args.out / 'soak.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
