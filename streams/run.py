"""``news-streams run``: the whole service on one machine, for a first look and for demos.

Starts (or reuses) the embedded broker, creates the topics, serves sample feeds on 127.0.0.1
(unless ``--feeds`` names real ones), runs a worker process and the poller, and shows the live
view. It stops everything it started, in reverse order, on Ctrl-C (SIGINT), SIGTERM, SIGHUP,
``--duration``, a failed child, or when its output goes away (terminal closed, ``| tee`` gone).

Why it is built this way:

- The broker and the worker run in their own process groups (a terminal's Ctrl-C reaches only
  us, so we stop them in order); we signal each whole group and wait, SIGKILL after a timeout,
  and on Linux they also get SIGTERM from the kernel if we die without cleaning up
  (``PR_SET_PDEATHSIG``).
- Signals are handled by the event loop, never as ``KeyboardInterrupt`` in the middle of
  cleanup; a second signal during cleanup only says that cleanup is under way.
- Every write to stdout/stderr goes through :class:`Output`: a closed pipe or terminal
  (``EPIPE``/``EIO``) does not raise into the cleanup path, it asks for a stop instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from streams import settings as settings_mod
from streams.broker import die_with_parent
from streams.live import CLEAR, FeedBoard, LiveStats, watch

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PLAIN_INTERVAL_S = 5.0
"""How often the plain (non-terminal) view prints its summary block."""


class Output:
    """stdout/stderr that never raise: a vanished reader becomes a stop request."""

    def __init__(self) -> None:
        self.gone: str | None = None
        self.on_gone: Callable[[str], None] | None = None
        self._dead: set[int] = set()

    def _write(self, stream: IO[str], fd: int, text: str) -> None:
        if fd in self._dead:
            return
        try:
            stream.write(text)
            stream.flush()
        except (BrokenPipeError, ValueError) as exc:
            self._lost(fd, f"output closed ({type(exc).__name__} on fd {fd})")
        except OSError as exc:
            if exc.errno not in (errno.EPIPE, errno.EIO, errno.ENXIO):
                raise
            code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
            self._lost(fd, f"output closed ({code} on fd {fd})")

    def _lost(self, fd: int, why: str) -> None:
        self._dead.add(fd)
        # Python flushes stdout at exit; a dead pipe would print a traceback there and exit 120.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        if self.gone is None:
            self.gone = why
            if self.on_gone is not None:
                self.on_gone(why)

    def out(self, text: str) -> None:
        self._write(sys.stdout, 1, text + "\n")

    def say(self, msg: str) -> None:
        self._write(sys.stderr, 2, f"[run] {msg}\n")

    def check(self) -> None:
        """Notice a closed pipe or hung-up terminal without writing (poll for ERR/HUP)."""
        for fd in (1, 2):
            if fd in self._dead:
                continue
            try:
                mode = os.fstat(fd).st_mode
            except OSError:
                continue
            if not (stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)):
                continue
            poller = select.poll()
            poller.register(fd, select.POLLOUT)
            for _, events in poller.poll(0):
                if events & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                    what = "hung up" if events & select.POLLHUP else "closed"
                    self._lost(fd, f"output closed (fd {fd} {what})")


OUT = Output()


def _say(msg: str) -> None:
    OUT.say(msg)


def _start_worker(s: settings_mod.Settings, log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        NEWS_BOOTSTRAP_SERVERS=s.bootstrap_servers,
        NEWS_KAFKA_SECURITY_PROTOCOL=s.kafka_security_protocol,
        NEWS_DATA_DIR=str(s.data_dir / "worker"),
        NEWS_WEB_PORT=str(s.web_port),
        NEWS_APP_ID=s.app_id,
        NEWS_BIND_HOST=s.bind_host,
    )
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "streams.cli", "worker"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # our Ctrl-C is not its Ctrl-C: we stop it, in order
            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
        )


def _stop_process(proc: subprocess.Popen[bytes], name: str, timeout: float = 30) -> None:
    """SIGTERM the child's process group, SIGKILL after ``timeout``; reap it."""
    if proc.poll() is None:
        _say(f"stopping {name} (pid {proc.pid})")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _say(f"{name} ignored SIGTERM for {timeout:.0f}s; killing it")
        _killpg(proc.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
    # Anything the child left in its group (it was the leader) goes too.
    _killpg(proc.pid)


def _killpg(pgid: int) -> bool:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


async def _serve_samples() -> tuple[Any, Path]:
    """Start the local feed server (new items trickle in); return it and its feeds file."""
    from streams.feeds.devserver import FeedServer

    server = FeedServer(trickle_s=2.0, trickle_initial=3)
    await server.start()
    names = server.load_default_feeds()
    fd, name = tempfile.mkstemp(prefix="news-feeds-", suffix=".yaml")
    os.close(fd)
    path = Path(name)
    path.write_text(server.feeds_yaml(interval_s=5.0), encoding="utf-8")
    _say(f"serving {len(names)} sample feeds on {server.url('')}")
    return server, path


def _log_to_file(path: Path) -> None:
    """Poller and client logs go to a file: the view shows feed errors, the file keeps all."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def kept_state(data_dir: Path) -> list[str]:
    """What an earlier run left in ``data_dir`` that makes sample items count as seen."""
    found = []
    if (data_dir / "kafka" / "kraft" / "meta.properties").is_file():
        found.append(f"{data_dir / 'kafka'} (topics, with the dedup state topics)")
    return found


def wipe_state(data_dir: Path) -> list[Path]:
    """``--fresh``: remove the broker data (and the worker's directory) of earlier demo runs."""
    removed = []
    for sub in ("kafka", "worker"):
        path = data_dir / sub
        if path.exists():
            shutil.rmtree(path)
            removed.append(path)
    return removed


async def _main(args: argparse.Namespace, stop: asyncio.Event, reason: list[str]) -> int:
    from streams.feeds.poller import run_poller
    from streams.feeds.registry import load_feeds
    from streams.service_cli import create_all_topics

    def request_stop(why: str) -> None:
        if not reason:
            reason.append(why)
        stop.set()

    OUT.on_gone = request_stop
    base = settings_mod.load()
    base.data_dir.mkdir(parents=True, exist_ok=True)
    _log_to_file(base.data_dir / "run.log")
    broker = None
    notes: list[str] = []
    overrides: dict[str, Any] = {}
    if not args.no_broker:
        from streams.broker import broker_from_settings

        # If we are killed outright (SIGKILL), the kernel still stops the JVM (Linux).
        broker = broker_from_settings(base, die_with_parent=sys.platform.startswith("linux"))
        if broker.status().get("running"):
            if args.fresh:
                _say(
                    f"--fresh: a broker from an earlier run is still running at "
                    f"{broker.bootstrap} (pid {broker.status().get('pid')}); stop it first: "
                    "news-streams broker stop"
                )
                return 2
            _say(f"reusing the broker already running at {broker.bootstrap}")
            broker = None
        elif args.fresh:
            for path in wipe_state(base.data_dir):
                _say(f"--fresh: removed {path}")
        kept = kept_state(base.data_dir)
        if kept and not args.fresh:
            notes.append(
                "note: kept state from an earlier run in "
                + ", ".join(kept)
                + ": sample items seen then count as duplicates now "
                "(few new events until new items trickle in); `news-streams run --fresh` "
                "starts empty"
            )
        if broker is not None:
            _say("starting the embedded Kafka broker (first run downloads the jars)")
            await asyncio.to_thread(broker.start)
        overrides["bootstrap_servers"] = f"127.0.0.1:{base.broker_port}"
        overrides["kafka_security_protocol"] = "PLAINTEXT"  # the embedded broker's listener
    else:
        if args.fresh:
            # Someone else's cluster: keep it, but start with new dedup state (a new app id).
            overrides["app_id"] = f"{base.app_id}-{int(time.time())}"
            wipe_state(base.data_dir)
            _say(f"--fresh: new app id {overrides['app_id']} (fresh dedup state)")
    server = None
    feeds_file = Path(args.feeds) if args.feeds else None
    worker = None
    tasks: list[asyncio.Task[Any]] = []
    try:
        if stop.is_set():
            return 0
        if feeds_file is None:
            server, feeds_file = await _serve_samples()
        s = settings_mod.load(
            feeds_file=feeds_file,
            allow_private_hosts=True if server is not None else None,
            **overrides,
        )
        created = await _unless_stopped(create_all_topics(s), stop)
        if created is None:
            return 0
        _say(f"topics ready ({len(created)} created)")
        if stop.is_set():
            return 0
        log_path = s.data_dir / "worker.log"
        worker = _start_worker(s, log_path)
        run_log = s.data_dir / "run.log"
        _say(f"worker started (pid {worker.pid}, log {log_path}; poller log {run_log})")
        feeds = load_feeds(feeds_file)
        stats = LiveStats(notes=notes, feeds=FeedBoard([f.id for f in feeds if f.enabled]))
        poller = asyncio.create_task(run_poller(s, feeds, on_outcome=stats.feeds.record))
        tty = sys.stdout.isatty() and not args.plain
        last_plain = [0.0]

        def render(st: LiveStats) -> None:
            OUT.check()
            if worker is not None and worker.poll() is not None:
                raise RuntimeError(f"the worker exited ({worker.returncode}); see {log_path}")
            if tty:
                width = shutil.get_terminal_size((100, 30)).columns
                OUT.out(CLEAR + st.render(width))
            elif time.monotonic() - last_plain[0] >= args.interval:
                last_plain[0] = time.monotonic()
                OUT.out(st.summary() + "\n")

        viewer = asyncio.create_task(
            watch(s, stats, f"http://127.0.0.1:{s.web_port}/metrics", render)
        )
        stopper = asyncio.create_task(stop.wait())
        tasks = [viewer, poller, stopper]
        done, _ = await asyncio.wait(
            tasks, timeout=args.duration or None, return_when="FIRST_COMPLETED"
        )
        for task in done:
            if task is not stopper and not task.cancelled() and task.exception():
                raise task.exception()  # type: ignore[misc]
        if reason:
            _say(f"stopping: {reason[0]}")
        OUT.out(stats.summary() if not tty else stats.render())
        return 0
    finally:
        # Stop what reads and writes first (poller, view), then the processes they talk to.
        await _cancel(tasks)
        if worker is not None:
            await asyncio.to_thread(_stop_process, worker, "worker")
        if server is not None:
            await server.stop()
            if feeds_file is not None and not args.feeds:
                with contextlib.suppress(OSError):
                    feeds_file.unlink()
        if broker is not None:
            _say("stopping the embedded broker")
            await asyncio.to_thread(broker.stop)


async def _unless_stopped(coro: Any, stop: asyncio.Event) -> Any:
    """Await ``coro`` unless a stop is requested first (then cancel it and return None)."""
    task = asyncio.ensure_future(coro)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait([task, stopper], return_when="FIRST_COMPLETED")
    if task.done():
        stopper.cancel()
        return task.result()
    await _cancel([task, stopper])
    return None


async def _cancel(tasks: list[asyncio.Task[Any]], timeout: float = 15.0) -> None:
    """Cancel until done: Python 3.11's ``asyncio.wait_for`` can swallow one cancellation
    when its inner future finishes at the same moment, leaving a loop (the poller's) running.
    """
    deadline = time.monotonic() + timeout
    pending = {t for t in tasks if not t.done()}
    while pending and time.monotonic() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
    if pending:
        _say(f"{len(pending)} task(s) ignored cancellation; stopping the processes anyway")
    for task in tasks:
        if task.done() and not task.cancelled():
            task.exception()  # retrieved: no "exception was never retrieved" noise


async def _supervise(args: argparse.Namespace) -> int:
    """Install the stop signals on the loop, run, and keep cleanup immune to later signals."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reason: list[str] = []

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            _say(f"{sig.name} again: already stopping, please wait")
            return
        reason.append(sig.name)
        stop.set()

    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)

    async def watch_output() -> None:
        while not stop.is_set():
            OUT.check()
            await asyncio.sleep(0.5)

    watcher = asyncio.create_task(watch_output())
    main = asyncio.create_task(_main(args, stop, reason))
    try:
        # Shielded: a stop request is the event above, never a cancellation of the cleanup.
        return await asyncio.shield(main)
    finally:
        watcher.cancel()
        if not main.done():
            await asyncio.wait([main])


def run(args: argparse.Namespace) -> int:
    # Client retries while a fresh broker elects leaders are expected (aiokafka logs some at
    # ERROR); they would garble the view. The worker's own log keeps everything.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    logging.raiseExceptions = False  # a log line to a closed stderr must not print a traceback
    if not hasattr(args, "interval"):
        args.interval = PLAIN_INTERVAL_S
    if not hasattr(args, "fresh"):
        args.fresh = False
    started = time.monotonic()
    try:
        code = asyncio.run(_supervise(args))
    except RuntimeError as exc:  # a child failed; everything was stopped on the way out
        _say(f"error: {exc}")
        code = 1
    _say(f"stopped after {time.monotonic() - started:.0f}s")
    return code
