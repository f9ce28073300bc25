"""Poller throughput: N local feeds, always behind, 90 % answering 304, 10 % 30 new items.

Everything real and local: the embedded broker (own ports, own data dir), the dev feed server
in its own process (``/bench/<i>``: feed i % 10 == 0 has 30 new items on every request, the
others answer 304 to their ETag), and ``news-streams poll`` processes in one consumer group.
The feeds are registered in ``news.feeds`` and the 304 feeds get a stored ETag in
``news.feeds.state`` (the steady state of a poller that has run for a while), so the measured
window is pure steady state. Every feed is due every ``--interval`` seconds, far more than a
poller can do, so it is always behind and works flat out.

Baseline in the same run: a bare conditional-GET loop (the same Fetcher, same concurrency,
no parsing, no Kafka) against the same server: the HTTP ceiling on this machine.

Figures: fetches/s, items/s (committed to news.raw), CPU of the pollers (incl. their parse
processes), broker and feed server, as % of one core. Keep runs short: the machine is shared.

    python -m bench.poller [--feeds 10000] [--seconds 20] [--pollers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from bench.corpus import ROOT
from bench.procstat import proc_cpu_s, tree_cpu_s
from streams.broker import EmbeddedBroker
from streams.feeds.fetch import Fetcher, FetchError, Validators
from streams.feeds.group import FeedTopics, ensure_topics, partition_for, write_feeds
from streams.feeds.registry import Feed, encode_feed
from streams.feeds.state import FeedState
from streams.settings import Settings, load

RESULTS = ROOT / "bench" / "results" / "poller.json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    """Sum the poller counters we report from one /metrics page."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30, trust_env=False).text
    sums: dict[str, float] = {"fetches": 0.0, "items": 0.0, "not_modified": 0.0, "errors": 0.0}
    for name in ("news_feed_fetch_seconds", "news_feed_commit_seconds",
                 "news_feed_schedule_delay_seconds"):  # fmt: skip
        for part in ("sum", "count"):
            sums[f"{name}_{part}"] = 0.0
    for line in text.splitlines():
        head = line.split(" ", 1)[0]
        if head in sums:
            sums[head] += float(line.rsplit(" ", 1)[1])
            continue
        if line.startswith("news_feed_fetches_total{"):
            value = float(line.rsplit(" ", 1)[1])
            sums["fetches"] += value
            outcome = re.search(r'outcome="([^"]+)"', line)
            label = outcome.group(1) if outcome else ""
            if label == "not_modified":
                sums["not_modified"] += value
            elif label != "ok":
                sums["errors"] += value
        elif line.startswith("news_feed_items_total{"):
            sums["items"] += float(line.rsplit(" ", 1)[1])
    return sums


async def seed(settings: Settings, names: FeedTopics, base: str, n: int, interval: float) -> None:
    """Register the feeds; give the 304 feeds the ETag a long-running poller would hold."""
    await ensure_topics(settings, names)
    feeds = [Feed(f"bench-{i}", f"{base}/bench/{i}", interval_s=interval) for i in range(n)]
    await write_feeds(settings, [(f.id, encode_feed(f)) for f in feeds], names)
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=20)
    await producer.start()
    try:
        for i in range(n):
            if i % 10:
                state = FeedState(f"bench-{i}", etag=f'"bench-{i}"', last_outcome="not_modified")
                await producer.send(
                    names.state,
                    state.to_json(),
                    key=state.feed_id.encode(),
                    partition=partition_for(state.feed_id, settings.partitions),
                )
        await producer.flush()
    finally:
        await producer.stop()


async def baseline(settings: Settings, base: str, n: int, seconds: float) -> dict[str, float]:
    """Bare conditional GETs (no parse, no Kafka) with the same Fetcher and concurrency."""
    counter = {"fetches": 0}
    stop = time.monotonic() + seconds
    started_cpu = time.process_time()

    async def worker(start: int) -> None:
        i = start
        while time.monotonic() < stop:
            validators = Validators(etag=f'"bench-{i}"') if i % 10 else None
            with contextlib.suppress(FetchError):
                await fetcher.fetch(f"{base}/bench/{i}", validators)
            counter["fetches"] += 1
            i = (i + settings.fetch_concurrency) % n

    async with Fetcher(settings) as fetcher:
        t0 = time.monotonic()
        await asyncio.gather(*(worker(k) for k in range(settings.fetch_concurrency)))
        elapsed = time.monotonic() - t0
    cpu = time.process_time() - started_cpu
    return {
        "fetches_per_s": counter["fetches"] / elapsed,
        "cpu_percent_of_core": 100 * cpu / elapsed,
    }


def start_poller(env: dict[str, str], metrics_port: int, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "poll"],
        env={**env, "NEWS_METRICS_PORT": str(metrics_port)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=3.0, help="every feed due every S s")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--pollers", type=int, default=1, help="poller processes (one group)")
    parser.add_argument("--concurrency", type=int, default=64, help="NEWS_FETCH_CONCURRENCY")
    parser.add_argument("--baseline-seconds", type=float, default=8.0)
    args = parser.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="bench-poller-"))
    base_settings = load()
    broker_port, controller_port = _free_port(), _free_port()
    broker = EmbeddedBroker(
        port=broker_port,
        controller_port=controller_port,
        data_dir=tmp / "kafka",
        cache_dir=base_settings.cache_dir,
        kafka_version=base_settings.kafka_version,
        heap="768m",
        jvm_opts=base_settings.broker_jvm_opts,
    )
    server_port = _free_port()
    server: subprocess.Popen[bytes] | None = None
    pollers: list[subprocess.Popen[bytes]] = []
    try:
        broker.start(timeout=120)
        server = subprocess.Popen(
            [sys.executable, "-m", "streams.feeds.devserver", "--port", str(server_port),
             "--no-shared"],
            stdout=(tmp / "server.log").open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{server_port}"
        for _ in range(100):
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{base}/bench/1", trust_env=False)
                break
            time.sleep(0.1)
        settings = replace(
            base_settings,
            bootstrap_servers=broker.bootstrap,
            allow_private_hosts=True,
            fetch_concurrency=args.concurrency,
            partitions=6,
            app_id="bench-poller",
        )
        print(f"baseline: bare conditional GETs for {args.baseline_seconds:.0f}s ...", flush=True)
        base_figures = asyncio.run(baseline(settings, base, args.feeds, args.baseline_seconds))
        print(f"seeding {args.feeds} feeds ...", flush=True)
        asyncio.run(seed(settings, FeedTopics(), base, args.feeds, args.interval))
        env = {
            **os.environ,
            "NEWS_BOOTSTRAP_SERVERS": broker.bootstrap,
            "NEWS_APP_ID": settings.app_id,
            "NEWS_PARTITIONS": "6",
            "NEWS_ALLOW_PRIVATE_HOSTS": "1",
            "NEWS_FETCH_CONCURRENCY": str(args.concurrency),
            "NEWS_FEEDS_FILE": str(tmp / "no-feeds.yaml"),
            "NEWS_LOG_LEVEL": "WARNING",
            "NEWS_DATA_DIR": str(tmp),
        }
        ports = [_free_port() for _ in range(args.pollers)]
        started = time.monotonic()
        pollers = [start_poller(env, p, tmp / f"poller-{k}.log") for k, p in enumerate(ports)]
        while True:
            time.sleep(0.5)
            with contextlib.suppress(httpx.HTTPError):
                if all(scrape(p)["fetches"] > 0 for p in ports):
                    break
            if time.monotonic() - started > 120:
                raise RuntimeError(f"pollers did not start; see {tmp}/poller-*.log")
            for proc in pollers:
                if proc.poll() is not None:
                    raise RuntimeError(f"a poller exited; see {tmp}/poller-*.log")
        ready_s = time.monotonic() - started
        time.sleep(args.warmup)

        def snapshot() -> tuple[float, dict[str, float], float, float, float, float]:
            sums: dict[str, float] = collections.defaultdict(float)
            for port in ports:
                for key, value in scrape(port).items():
                    sums[key] += value
            cpu = sum(tree_cpu_s(p.pid) for p in pollers)
            assert server is not None
            main_cpu = sum(proc_cpu_s(p.pid) for p in pollers)
            return (
                time.monotonic(),
                sums,
                cpu,
                main_cpu,
                tree_cpu_s(broker_pid()),
                tree_cpu_s(server.pid),
            )

        def broker_pid() -> int:
            return int(broker.pid_file.read_text().strip())

        t0, m0, c0, p0, b0, s0 = snapshot()
        time.sleep(args.seconds)
        t1, m1, c1, p1, b1, s1 = snapshot()
        elapsed = t1 - t0
        fetches = (m1["fetches"] - m0["fetches"]) / elapsed
        result: dict[str, Any] = {
            "feeds": args.feeds,
            "interval_s": args.interval,
            "pollers": args.pollers,
            "fetch_concurrency": args.concurrency,
            "seconds": round(elapsed, 1),
            "startup_to_first_fetch_s": round(ready_s, 1),
            "fetches_per_s": round(fetches, 1),
            "not_modified_share": round(
                (m1["not_modified"] - m0["not_modified"]) / max(1.0, m1["fetches"] - m0["fetches"]),
                3,
            ),
            "errors": m1["errors"] - m0["errors"],
            "items_per_s": round((m1["items"] - m0["items"]) / elapsed, 1),
            "poller_cpu_percent_of_core": round(100 * (c1 - c0) / elapsed, 1),
            **{
                f"mean_{name.removeprefix('news_feed_')}": round(
                    (m1[f"{name}_sum"] - m0[f"{name}_sum"])
                    / max(1.0, m1[f"{name}_count"] - m0[f"{name}_count"]),
                    4,
                )
                for name in (
                    "news_feed_fetch_seconds",
                    "news_feed_commit_seconds",
                    "news_feed_schedule_delay_seconds",
                )
            },
            "poller_event_loop_cpu_percent_of_core": round(100 * (p1 - p0) / elapsed, 1),
            "parse_processes_cpu_percent_of_core": round(
                100 * ((c1 - c0) - (p1 - p0)) / elapsed, 1
            ),
            "fetches_per_poller_cpu_s": round(fetches / max(1e-9, (c1 - c0) / elapsed), 1),
            "broker_cpu_percent_of_core": round(100 * (b1 - b0) / elapsed, 1),
            "server_cpu_percent_of_core": round(100 * (s1 - s0) / elapsed, 1),
            "baseline_bare_fetches_per_s": round(base_figures["fetches_per_s"], 1),
            "baseline_cpu_percent_of_core": round(base_figures["cpu_percent_of_core"], 1),
            "ratio_to_baseline": round(fetches / base_figures["fetches_per_s"], 2),
            "cpus": os.cpu_count(),
            "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
            "note": "shared 2-core machine: broker, feed server and pollers on the same cores",
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        print(json.dumps(result, indent=2))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        runs: dict[str, Any] = {}
        if RESULTS.exists():
            with contextlib.suppress(ValueError):
                runs = json.loads(RESULTS.read_text())
        runs[f"pollers={args.pollers}"] = result
        RESULTS.write_text(json.dumps(runs, indent=2) + "\n")
        print(f"written to {RESULTS}")
    finally:
        for proc in pollers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in pollers:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if server is not None:
            server.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(10)
        broker.stop()


if __name__ == "__main__":
    main()
