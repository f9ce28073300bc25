"""Pipeline throughput and latency on a real embedded broker, against two baselines.

Measured in one run, each on a fresh embedded broker so no run sees another's records:

(a) raw pass-through: a plain aiokafka consume -> produce loop over the same raw items (the floor
    cost of Python + Kafka);
(b) Faust's consume floor: a Faust agent that only iterates ``stream.take(500, within=0.05)`` and
    sends one record per batch (``bench/faust_floor.py``): no Faust pipeline can consume raw
    items faster than this;
(c) the pipeline (split, two dedup stages, tag, emit) in 1 and 2 worker processes, under
    exactly_once (the default) and at_least_once.

The items are seed-shaped (headline, lead, 14 teasers drawn from 200 ledes), and every item is a
new story (lead words shuffled: the corpus has only a few hundred), as in a live feed: each gives
a lead event, while most teasers repeat. Each run first sends ``--warm`` other items of the same
kind through the same broker and processes and waits until they are through: the broker is a
JVM that compiles its hot paths in its first seconds of traffic (a cold broker spent ~0.3 ms
more CPU per item in the pipeline), and a service that runs for months is measured warm. Then
N pre-encoded items are produced as fast as possible; throughput = N / (time until the last
output record arrives).
Then latency (fetched_at -> event on news.events) p50/p99 for the same kind of items offered at
half the measured one-worker rate, after a warm-up of the same load (``WARMUP_S``).
``--profile`` also records the one-worker exactly_once run with py-spy (collapsed stacks and a
flame graph in bench/results/).
Results: bench/results/pipeline.json.

    python -m bench.pipeline [--items 3000] [--workers 1,2] [--seconds 20] [--profile]
    python -m bench.pipeline --latency-only --rate 583 [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.corpus import ROOT, raw_items, write_results
from bench.procstat import proc_cpu_s, tree_cpu_s
from streams import records, topics
from streams.admin import all_public_topics, create_topics
from streams.broker import EmbeddedBroker
from streams.settings import load
from streams.text.dedup import Deduplicator
from streams.text.units import units_from_item
from streams.times import now_iso, parse_time

RESULTS = ROOT / "bench" / "results" / "pipeline.json"
R = TypeVar("R")
WARMUP_S = 3.0
"""Seconds of offered load before latency is measured (see :func:`latency`)."""
DRAIN_S = 3.0
"""Seconds of quiet between the warm-up and the measured load."""
_WEB_PORTS: dict[int, int] = {}
"""Web (health) port of each worker started here, by pid."""
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


async def baseline(
    bootstrap: str, values: list[tuple[bytes, bytes]], warm: list[tuple[bytes, bytes]]
) -> float:
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
    t0 = t1 = 0.0
    for batch in (warm, values):  # the warm-up (if any), then the timed run
        if batch:
            count = functools.partial(_count_until, bootstrap, dst, len(batch), 300)
            t0, t1 = await _through(bootstrap, src, batch, count)
    stop.set()
    await task
    return len(values) / (t1 - t0)


def start_worker(
    bootstrap: str,
    data_dir: Path,
    app_id: str,
    guarantee: str = "exactly_once",
    profile: Path | None = None,
    module: str = "streams.cli",
    extra: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    web_port = _free_port()
    env.update(
        NEWS_BOOTSTRAP_SERVERS=bootstrap,
        NEWS_DATA_DIR=str(data_dir),
        NEWS_APP_ID=app_id,
        NEWS_WEB_PORT=str(web_port),
        NEWS_LOG_LEVEL="INFO",
        NEWS_PROCESSING_GUARANTEE=guarantee,
        **(extra or {}),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    log = open(data_dir / "worker.log", "wb")  # noqa: SIM115 - lives as long as the worker
    cmd = [sys.executable, "-m", module] + (["worker"] if module == "streams.cli" else [])
    if profile is not None:
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        cmd = [spy, "record", "-r", "100", "--subprocesses", "-o", str(profile), "--", *cmd]
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, cwd=ROOT)
    _WEB_PORTS[proc.pid] = web_port
    return proc


async def wait_readyz(procs: list[subprocess.Popen[bytes]], timeout: float = 120) -> None:
    """Every worker's ``/readyz`` is 200: all its stage partitions are restored."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    for proc in procs:
        url = f"http://127.0.0.1:{_WEB_PORTS[proc.pid]}/readyz"
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} not ready after {timeout}s")
            await asyncio.sleep(0.2)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (py-spy writes its profile on it; a worker shuts down cleanly), then wait."""
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


async def wait_logs(paths: list[Path], text: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p.exists() and text in p.read_text(errors="replace") for p in paths):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{text!r} not in all of {paths} after {timeout}s")


async def wait_worker_ready(bootstrap: str, timeout: float = 120) -> None:
    """A warm-up item goes through: the worker has joined and restored its state."""
    item = raw_items(1, feed="warmup", seed=999)[0]
    # Its own text: sharing teasers with the measured items would change their expected events.
    # Random letters, not a timestamp: digits are masked in signatures, so a second warm-up
    # with only a new number would be (rightly) dropped as a near-duplicate of the first.
    rng = random.Random()
    words = " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(8))
    item["content"] = f"Warm-up item\nThe pipeline warm-up item {words} has a text of its own."
    ready = asyncio.Event()
    counter = asyncio.create_task(_count_until(bootstrap, topics.EVENTS, 1, timeout, ready))
    await ready.wait()
    await _produce_all(bootstrap, topics.RAW, [(item["item_id"].encode(), records.encode(item))])
    await counter


async def _last_arrival(
    bootstrap: str,
    topic: str,
    target: int,
    timeout: float,
    started: asyncio.Event,
    *,
    quiet: float = 3.0,
    value_counts: bool = False,
) -> tuple[float, int]:
    """(monotonic time of the last record, count) once ``target`` arrived and ``quiet`` s passed.

    ``value_counts``: each record's value is an item count (the Faust floor's batch records).
    Waiting for quiet (not an exact count) keeps order-dependent near-duplicate chains, where the
    stream may keep one event more or less than the offline order, from stalling the run.
    """
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        isolation_level="read_committed",
    )
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)
        started.set()
        seen, last = 0, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            got = [r for recs in batch.values() for r in recs]
            if got:
                last = time.monotonic()
                seen += sum(int(r.value) for r in got) if value_counts else len(got)
            elif seen >= target and time.monotonic() - last >= quiet:
                return last, seen
        raise TimeoutError(f"only {seen} of {target} records on {topic} after {timeout}s")
    finally:
        await consumer.stop()


async def timed_run(
    bootstrap: str,
    topic: str,
    values: list[tuple[bytes, bytes]],
    out: str,
    target: int,
    *,
    value_counts: bool = False,
) -> tuple[float, int]:
    """(items/s, output records seen): ``values`` produced to ``topic`` as fast as possible,
    timed until the last record on ``out`` (also each run's warm-up, its rate ignored)."""
    t0, (t1, seen) = await _through(
        bootstrap,
        topic,
        values,
        functools.partial(_last_arrival, bootstrap, out, target, 900, value_counts=value_counts),
    )
    return len(values) / (t1 - t0), seen


async def _through(
    bootstrap: str,
    topic: str,
    values: list[tuple[bytes, bytes]],
    count: Callable[[asyncio.Event], Coroutine[Any, Any, R]],
) -> tuple[float, R]:
    """Start the consumer ``count`` (it sets the event once it sits at the end of its topic),
    produce ``values``; (monotonic time production began, what ``count`` returned)."""
    ready = asyncio.Event()
    counter = asyncio.create_task(count(ready))
    await ready.wait()
    t0 = time.monotonic()
    await _produce_all(bootstrap, topic, values)
    return t0, await counter


def cpu_snapshot(broker_pid: int | None, workers: list[int]) -> dict[str, float]:
    """CPU seconds so far of the broker, the workers' own processes, their text-core pools and
    this process (the load generator and the counting consumer)."""
    main = sum(proc_cpu_s(pid) for pid in workers)
    return {
        "broker": tree_cpu_s(broker_pid) if broker_pid else 0.0,
        "worker": main,
        "core_pool": sum(tree_cpu_s(pid) for pid in workers) - main,
        "load_generator": time.process_time(),
    }


_BROKER_PIDS: dict[str, int] = {}
"""Pid of each embedded broker started here, by bootstrap address."""


@contextlib.asynccontextmanager
async def fresh_broker(tmp: Path, name: str) -> AsyncIterator[str]:
    """A new embedded broker with the public topics, stopped at the end."""
    s = load()
    broker = EmbeddedBroker(
        port=_free_port(),
        controller_port=_free_port(),
        data_dir=tmp / name / "broker",
        cache_dir=s.cache_dir,
        kafka_version=s.kafka_version,
        heap="1g",
        jvm_opts=s.broker_jvm_opts,
    )
    broker.start()
    with contextlib.suppress(OSError, ValueError):
        _BROKER_PIDS[broker.bootstrap] = int(broker.pid_file.read_text().strip())
    try:
        from streams.pipeline.app import topic_configs

        await create_topics(
            broker.bootstrap,
            all_public_topics(_tags()),
            partitions=6,
            replication_factor=1,
            configs=topic_configs(s),
        )
        yield broker.bootstrap
    finally:
        broker.stop()


async def faust_floor(
    tmp: Path, values: list[tuple[bytes, bytes]], warm: list[tuple[bytes, bytes]]
) -> tuple[float, dict[str, float]]:
    async with fresh_broker(tmp, "floor") as bootstrap:
        src, dst = "bench.floor.in", "bench.floor.out"
        await create_topics(bootstrap, [src, dst], partitions=6, replication_factor=1)
        proc = start_worker(
            bootstrap,
            tmp / "floor",
            "bench-floor",
            module="bench.faust_floor",
            extra={"FLOOR_IN": src, "FLOOR_OUT": dst},
        )
        try:
            warm = warm or [(b"w", b"warm-up")]
            await timed_run(bootstrap, src, warm, dst, len(warm), value_counts=True)
            before = cpu_snapshot(_BROKER_PIDS.get(bootstrap), [proc.pid])
            rate, _ = await timed_run(bootstrap, src, values, dst, len(values), value_counts=True)
            after = cpu_snapshot(_BROKER_PIDS.get(bootstrap), [proc.pid])
            cpu = {k: (after[k] - before[k]) * 1000 / len(values) for k in after}
            cpu.pop("core_pool")
            return rate, cpu
        finally:
            stop_process(proc)


async def pipeline_run(
    tmp: Path,
    values: list[tuple[bytes, bytes]],
    n_events: int,
    *,
    workers: int,
    guarantee: str,
    profile: Path | None = None,
    latency_rate: float = 0,
    seconds: float = 20,
    n_items: int | None = None,
    warm: list[tuple[bytes, bytes]] | None = None,
    warm_events: int = 0,
) -> dict[str, Any]:
    name = f"pipeline-{workers}w-{guarantee}" + ("-latency" if latency_rate else "")
    if n_items is not None:
        name += "-source-batched"  # every run needs a broker (data dir) of its own
    # A unique group: a stray worker of another run that finds this broker on a reused port
    # must not join our group and take partitions.
    app_id = f"bench-pipeline-{os.getpid()}-{int(time.time())}"
    async with fresh_broker(tmp, name) as bootstrap:
        procs = [
            start_worker(
                bootstrap,
                tmp / name / f"w{i}",
                app_id,
                guarantee,
                profile=profile if i == 0 else None,
            )
            for i in range(workers)
        ]
        try:
            await wait_logs(
                [tmp / name / f"w{i}" / "worker.log" for i in range(workers)], "Worker ready"
            )
            await wait_worker_ready(bootstrap)
            await wait_readyz(procs)
            if latency_rate:
                return {"latency": await latency(bootstrap, latency_rate, seconds)}
            if warm:
                await timed_run(bootstrap, topics.RAW, warm, topics.EVENTS, int(warm_events * 0.98))
            pids = [proc.pid for proc in procs]
            before = cpu_snapshot(_BROKER_PIDS.get(bootstrap), pids)
            rate, seen = await timed_run(
                bootstrap, topics.RAW, values, topics.EVENTS, int(n_events * 0.98)
            )
            after = cpu_snapshot(_BROKER_PIDS.get(bootstrap), pids)
            # timed_run counts records; with source batching a record holds several items
            items = n_items or len(values)
            rate *= items / len(values)
            # CPU per 1,000 items, by process (includes the few idle seconds of quiet at the end;
            # not for a profiled run: its worker process is py-spy's child)
            cpu = {k: (after[k] - before[k]) * 1000 / items for k in after}
            out: dict[str, Any] = {"items_per_s": rate, "events": seen}
            if profile is None:
                out["cpu_s_per_1000_items"] = cpu
            return out
        finally:
            for proc in procs:
                stop_process(proc)


def new_story_values(n: int, feed: str, seed: int) -> tuple[list[Any], list[tuple[bytes, bytes]]]:
    """``n`` seed-shaped items, each a new story (:func:`_new_story`), and their records."""
    items = raw_items(n, feed=feed, seed=seed)
    rng = random.Random(seed)
    for item in items:
        item["content"] = _new_story(item["content"], rng)
    return items, [(it["item_id"].encode(), records.encode(it)) for it in items]


def _new_story(content: str, rng: random.Random, teasers: int = 14) -> str:
    """The item with its lead made new: the words of each lead paragraph shuffled.

    The corpus has a few hundred stories, so a long latency run would repeat them, and a
    repeated lead is (rightly) dropped as a duplicate: only the first seconds would give
    samples. Shuffled words keep the language, the lengths and the shape; the teaser block stays
    as it is (teasers do repeat in real feeds). Numbers would not do: digits are masked in
    signatures.
    """
    lines = content.split("\n")
    for j in range(1, len(lines) - teasers):
        words = lines[j].split()
        rng.shuffle(words)
        lines[j] = " ".join(words)
    return "\n".join(lines)


async def latency(
    bootstrap: str, rate: float, seconds: float, warmup: float = WARMUP_S
) -> dict[str, float]:
    """Offer ``rate`` new items/s with fresh fetched_at; measure fetched_at -> event received.

    First ``warmup`` seconds of other items are offered the same way and not measured, then
    ``DRAIN_S`` of quiet: on an empty state every teaser is new at first (hundreds of extra
    events in the first second), which a running service, whose state knows the recurring
    teasers, does not see; the pause keeps that backlog out of the measured seconds.
    """
    n_warm = int(rate * warmup)
    n = max(1, int(rate * seconds))
    items = raw_items(n_warm, feed="latency-warmup", seed=4343) + raw_items(
        n, feed="latency", seed=4242
    )
    lat: list[float] = []
    consumer = AIOKafkaConsumer(
        topics.EVENTS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="latest",
        isolation_level="read_committed",
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
    rng = random.Random(4242)
    for phase, part in enumerate((items[:n_warm], items[n_warm:])):
        start = time.monotonic()
        for i, item in enumerate(part):
            item["content"] = _new_story(item["content"], rng)
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            item["fetched_at"] = now_iso()
            item["published"] = item["fetched_at"]
            value = records.encode(item)
            await producer.send(topics.RAW, value=value, key=item["item_id"].encode())
        await producer.flush()
        if phase == 0 and part:
            await asyncio.sleep(DRAIN_S)  # the warm-up's backlog drains before measuring
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
        "warmup_s": warmup,
        "offered_items_per_s": rate,
        "p50_s": statistics.median(lat),
        "p99_s": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "max_s": lat[-1],
    }


async def latency_only(args: argparse.Namespace) -> dict[str, Any]:
    """``--latency-only``: ``--repeat`` latency runs of one worker at ``--rate`` items/s."""
    _, values = new_story_values(1, "bench", 7)
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="news-bench-") as tmp_name:
        for i in range(args.repeat):
            run = await pipeline_run(
                Path(tmp_name) / f"r{i}",
                values,
                1,
                workers=1,
                guarantee="exactly_once",
                latency_rate=args.rate,
                seconds=args.seconds,
            )
            lat = run["latency"]
            runs.append(lat)
            print(
                f"latency at {args.rate:.0f} items/s offered, run {i + 1}: "
                f"p50 {lat.get('p50_s', 0) * 1000:.0f} ms, p99 {lat.get('p99_s', 0) * 1000:.0f} ms "
                f"({lat.get('samples')} samples)",
                flush=True,
            )
    return {"offered_items_per_s": args.rate, "runs": runs}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    # every item a new story, as in a live feed (and as the latency probes)
    items, values = new_story_values(args.items, "bench", 7)
    warm_items, warm = new_story_values(args.warm, "bench-warmup", 99)
    warm_events = expected_events(warm_items)
    n_events = expected_events(warm_items + items) - warm_events  # after the warm-up's
    size = statistics.mean(len(it["content"]) for it in items)
    print(
        f"{len(items)} items, mean {size:.0f} chars, {n_events} expected events "
        f"(after {len(warm)} warm-up items)",
        flush=True,
    )
    workers = [int(w) for w in args.workers.split(",")]
    result: dict[str, Any] = {
        "items": len(items),
        "warm_up_items": len(warm),
        "mean_item_chars": size,
        "expected_events": n_events,
        "cpus": os.cpu_count(),
        "runs": {},
    }
    with tempfile.TemporaryDirectory(prefix="news-bench-") as tmp_name:
        tmp = Path(tmp_name)
        async with fresh_broker(tmp, "baseline") as bootstrap:
            base = await baseline(bootstrap, values, warm)
        print(f"raw aiokafka pass-through:      {base:8,.0f} items/s", flush=True)
        floor, floor_cpu = await faust_floor(tmp, values, warm)
        print(f"Faust consume floor (take 500): {floor:8,.0f} items/s", flush=True)
        print(
            "  CPU s per 1,000 items: " + ", ".join(f"{k} {v:.2f}" for k, v in floor_cpu.items()),
            flush=True,
        )
        result.update(
            baseline_items_per_s=base,
            faust_floor_items_per_s=floor,
            faust_floor_cpu_s_per_1000_items=floor_cpu,
        )
        runs = [(w, "exactly_once") for w in workers] + [(1, "at_least_once")]
        for w, guarantee in runs:
            profile = None
            if args.profile and w == 1 and guarantee == "exactly_once":
                profile = RESULTS.parent / "pipeline-flamegraph.svg"
            latency_rate = 0.0
            run = await pipeline_run(
                tmp,
                values,
                n_events,
                workers=w,
                guarantee=guarantee,
                profile=profile,
                warm=warm,
                warm_events=warm_events,
            )
            rate = run["items_per_s"]
            if w == 1 and guarantee == "exactly_once":
                latency_rate = args.rate or max(1.0, round(rate * 0.5))
                lat_run = await pipeline_run(
                    tmp,
                    values[:1],
                    1,
                    workers=1,
                    guarantee=guarantee,
                    latency_rate=latency_rate,
                    seconds=args.seconds,
                )
                run["latency"] = lat_run["latency"]
            run.update(ratio_to_passthrough=rate / base, ratio_to_faust_floor=rate / floor)
            result["runs"][f"{w}w-{guarantee}"] = run
            print(
                f"pipeline {w} worker(s) {guarantee:13}: {rate:8,.0f} items/s  "
                f"({rate / floor:.2f}x Faust floor, {rate / base:.2f}x pass-through)",
                flush=True,
            )
            cpu = run.get("cpu_s_per_1000_items", {})
            if cpu:
                print(
                    "  CPU s per 1,000 items: "
                    + ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
                    + f" (total {sum(cpu.values()):.2f}; 2 cores = 2.00 s per s)",
                    flush=True,
                )
            if "latency" in run:
                lat = run["latency"]
                print(
                    f"  latency at {latency_rate:.0f} items/s offered "
                    f"(after a {WARMUP_S:.0f} s warm-up and {DRAIN_S:.0f} s pause): "
                    f"p50 {lat.get('p50_s', 0) * 1000:.0f} ms, "
                    f"p99 {lat.get('p99_s', 0) * 1000:.0f} ms ({lat.get('samples')} samples)",
                    flush=True,
                )
        if args.source_batch > 1:
            # Batching at the source: one record per poll of one feed (a JSON list of items),
            # so Faust's per-record cost is paid per poll, not per item.
            grouped = [
                (
                    values[i][0],
                    b"[" + b",".join(v for _, v in values[i : i + args.source_batch]) + b"]",
                )
                for i in range(0, len(values), args.source_batch)
            ]
            run = await pipeline_run(
                tmp,
                grouped,
                n_events,
                workers=1,
                guarantee="exactly_once",
                n_items=len(values),
                warm=warm,
                warm_events=warm_events,
            )
            rate = run["items_per_s"]
            run.update(ratio_to_passthrough=rate / base, ratio_to_faust_floor=rate / floor)
            result["runs"][f"1w-exactly_once-source-batch-{args.source_batch}"] = run
            print(
                f"pipeline 1 worker(s) exactly_once, {args.source_batch} items per raw record: "
                f"{rate:8,.0f} items/s ({rate / floor:.2f}x Faust floor)",
                flush=True,
            )
    one = result["runs"]["1w-exactly_once"]
    alo = result["runs"]["1w-at_least_once"]
    result["exactly_once_cost"] = 1 - one["items_per_s"] / alo["items_per_s"]
    print(
        f"exactly_once throughput cost vs at_least_once: {result['exactly_once_cost']:.0%}"
        f"\ntarget: >= 0.5x Faust floor with one worker: "
        f"{one['ratio_to_faust_floor']:.2f}x; p99 < 500 ms at half load: "
        f"{one['latency'].get('p99_s', 0) * 1000:.0f} ms"
    )
    return result


def _tags() -> list[str]:
    from streams.text.tag import ENTITY_TAGS, THEME_TAGS

    return [*ENTITY_TAGS, *THEME_TAGS]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=3000)
    parser.add_argument(
        "--warm", type=int, default=3000, help="warm-up items before each timed run (0 = none)"
    )
    parser.add_argument("--workers", default="1,2", help="worker counts to run (exactly_once)")
    parser.add_argument("--profile", action="store_true", help="py-spy the 1-worker run")
    parser.add_argument(
        "--source-batch", type=int, default=30, help="items per raw record in the extra run"
    )
    parser.add_argument("--rate", type=float, default=0, help="latency offered rate (0 = half)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--json", type=Path, default=None, help="default: bench/results/")
    parser.add_argument(
        "--latency-only",
        action="store_true",
        help="only latency runs of one worker at --rate (results: pipeline-latency.json)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="--latency-only runs")
    args = parser.parse_args(argv)
    if args.latency_only:
        if not args.rate:
            parser.error("--latency-only needs --rate")
        result = asyncio.run(latency_only(args))
        write_results(args.json or RESULTS.with_name("pipeline-latency.json"), result)
        return 0
    result = asyncio.run(main_async(args))
    write_results(args.json or RESULTS, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
