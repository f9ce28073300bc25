"""``news-streams run``: the whole service on one machine, for a first look and for demos.

Starts (or reuses) the embedded broker, creates the topics, serves sample feeds on 127.0.0.1
(unless ``--feeds`` names real ones), runs a worker process and the poller, and shows the live
view. Ctrl-C (or ``--duration``) stops everything it started, in reverse order.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from streams import settings as settings_mod
from streams.live import CLEAR, LiveStats, watch


def _say(msg: str) -> None:
    print(f"[run] {msg}", file=sys.stderr, flush=True)


def _start_worker(s: settings_mod.Settings, log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        NEWS_BOOTSTRAP_SERVERS=s.bootstrap_servers,
        NEWS_DATA_DIR=str(s.data_dir / "worker"),
        NEWS_WEB_PORT=str(s.web_port),
        NEWS_APP_ID=s.app_id,
    )
    log = log_path.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "worker"],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


def _stop_process(proc: subprocess.Popen[bytes], name: str, timeout: float = 30) -> None:
    if proc.poll() is not None:
        return
    _say(f"stopping {name} (pid {proc.pid})")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


async def _serve_samples() -> tuple[Any, Path]:
    """Start the local feed server (new items trickle in); return it and its feeds file."""
    from streams.feeds.devserver import FeedServer

    server = FeedServer(trickle_s=2.0, trickle_initial=3)
    await server.start()
    names = server.load_default_feeds()
    path = Path(tempfile.mkstemp(prefix="news-feeds-", suffix=".yaml")[1])
    path.write_text(server.feeds_yaml(interval_s=5.0), encoding="utf-8")
    _say(f"serving {len(names)} sample feeds on {server.url('')}")
    return server, path


async def _main(args: argparse.Namespace) -> int:
    from streams.feeds.poller import run_poller
    from streams.feeds.registry import load_feeds
    from streams.service_cli import create_all_topics

    base = settings_mod.load()
    base.data_dir.mkdir(parents=True, exist_ok=True)
    broker = None
    if not args.no_broker:
        from streams.broker import broker_from_settings

        broker = broker_from_settings(base)
        if broker.status().get("running"):
            _say(f"reusing the broker already running at {broker.bootstrap}")
            broker = None
        else:
            _say("starting the embedded Kafka broker (first run downloads the jars)")
            await asyncio.to_thread(broker.start)
        bootstrap = f"127.0.0.1:{base.broker_port}"
    else:
        bootstrap = base.bootstrap_servers
    server = None
    feeds_file = Path(args.feeds) if args.feeds else None
    worker = None
    waiters: list[asyncio.Task[Any]] = []
    try:
        if feeds_file is None:
            server, feeds_file = await _serve_samples()
        s = settings_mod.load(
            bootstrap_servers=bootstrap,
            feeds_file=feeds_file,
            allow_private_hosts=True if server is not None else None,
        )
        created = await create_all_topics(s)
        _say(f"topics ready ({len(created)} created)")
        log_path = s.data_dir / "worker.log"
        worker = _start_worker(s, log_path)
        _say(f"worker started (pid {worker.pid}, log {log_path})")
        feeds = load_feeds(feeds_file)
        poller = asyncio.create_task(run_poller(s, feeds))
        stats = LiveStats()
        tty = sys.stdout.isatty() and not args.plain

        def render(st: LiveStats) -> None:
            if worker is not None and worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({worker.returncode}); see {log_path}")
            if poller.done() and poller.exception():
                raise RuntimeError(f"the poller failed: {poller.exception()!r}")
            if tty:
                print(CLEAR + st.render(), flush=True)
            else:
                print(st.render().splitlines()[0], flush=True)

        viewer = asyncio.create_task(
            watch(bootstrap, stats, f"http://127.0.0.1:{s.web_port}/metrics", render)
        )
        waiters = [viewer, poller]
        timeout = args.duration or None
        done, _ = await asyncio.wait(waiters, timeout=timeout, return_when="FIRST_EXCEPTION")
        for task in done:
            if task.exception():
                raise task.exception()  # type: ignore[misc]
        print(stats.render(), flush=True)
        return 0
    finally:
        # Stop what reads and writes first (poller, view), then the processes they talk to.
        for task in waiters:
            task.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        if worker is not None:
            _stop_process(worker, "worker")
        if server is not None:
            await server.stop()
        if broker is not None:
            _say("stopping the embedded broker")
            await asyncio.to_thread(broker.stop)


def run(args: argparse.Namespace) -> int:
    import logging

    # Client retries while a fresh broker elects leaders are expected (aiokafka logs some at
    # ERROR); they would garble the view. The worker's own log keeps everything.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    started = time.monotonic()
    try:
        return asyncio.run(_main(args))
    except KeyboardInterrupt:
        _say(f"stopped after {time.monotonic() - started:.0f}s")
        return 0
