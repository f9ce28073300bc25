"""Black-box fault injection for the pipeline, as a consumer team would test its promise.

Only public surfaces are used: the CLI (``news-streams topics create``, ``news-streams worker``,
``news-streams process --all``), the embedded broker (:mod:`streams.broker`) and plain aiokafka.
Nothing here imports ``streams.pipeline``, so the same harness measures whatever pipeline is on
the branch. Shared by ``tests/integration/test_crash.py`` and ``bench/chaos.py``.

One scenario = a fresh broker (own data dir and ports; the ``news.*`` names are global), a
fresh ``NEWS_APP_ID``, N scraped-like items on ``news.raw``, one or two workers, one fault, and a
plain ``read_committed`` consumer on ``news.events`` that stamps every record's arrival time.

Expected output is what ``news-streams process --all`` prints for the same items: every unit
resolves to the event_id of its group's first-seen unit, so a different representative of one
duplicate group (the stream sees items in another order than the offline run) is not missing.
After the fault, one *sentinel* item per ``news.raw`` partition is produced; once all of them
are on ``news.events`` (every partition processed past the last item) and the topic has been
quiet for a while, the run ends and is scored.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import TopicPartition

from bench.corpus import excerpts
from streams import topics
from streams.broker import EmbeddedBroker
from streams.records import RawItem, make_item_id
from streams.settings import load as load_settings
from streams.text.fingerprint import Signature, is_duplicate, signature

ROOT = Path(__file__).resolve().parents[2]
SENTINEL_FEED = "chaos-sentinel"
PROCESS_CMD = [sys.executable, "-m", "streams.cli", "process", "--jsonl", "--all"]
TIME_FMT = "%Y-%m-%dT%H:%M:%SZ"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime(TIME_FMT)


# --------------------------------------------------------------------------------- the input


def _story_pool() -> list[list[str]]:
    pool = [
        [p for p in row["text"].split("\n") if len(p) > 40] for row in excerpts() if row.get("text")
    ]
    return [paras for paras in pool if len(paras) >= 3]


def _edited(text: str, rng: random.Random) -> str:
    """The same story as another site prints it: other quotes, one word dropped, a number."""
    out = text.replace('"', "«", 1).replace('"', "»", 1)
    words = out.split(" ")
    if len(words) > 12:
        del words[rng.randrange(6, len(words) - 3)]
    out = " ".join(words)
    return re.sub(r"\d+", lambda m: str(int(m.group()) + 1), out, count=1)


def build_items(
    n: int,
    *,
    seed: int = 11,
    feed: str = "chaos",
    start: datetime | None = None,
    spread_s: float = 6 * 3600.0,
    teasers: int = 12,
    teaser_pool: int = 150,
    edited_every: int = 7,
) -> list[RawItem]:
    """``n`` scraped-like items: a lead story plus a block of teasers drawn from a small pool
    (so teasers repeat across items), and every ``edited_every``-th item an edited copy of an
    earlier story from another feed. Published times spread over ``spread_s`` (keep it inside
    one dedup window), slightly out of order, as feeds deliver them."""
    rng = random.Random(seed)
    pool = _story_pool()
    ledes = [paras[0] for paras in pool]
    teaser_texts = ledes[-teaser_pool:]
    stories = pool[: max(1, len(pool) - teaser_pool)]
    t0 = start or (datetime.now(UTC) - timedelta(seconds=spread_s + 600))
    items: list[RawItem] = []
    texts: list[str] = []
    for i in range(n):
        if i >= edited_every and i % edited_every == 0:
            base = texts[rng.randrange(len(texts))]
            lines = base.split("\n")
            text = "\n".join([lines[0], *(_edited(p, rng) for p in lines[1:5]), *lines[5:]])
            item_feed = f"{feed}-copy"
        else:
            story = stories[i % len(stories)]
            block = [rng.choice(teaser_texts) for _ in range(teasers)]
            text = "\n".join([story[0][:120], *story[1:6], *block])
            texts.append(text)
            item_feed = feed
        published = t0 + timedelta(seconds=spread_s * i / max(1, n) + rng.uniform(-60, 60))
        guid = f"{feed}-{seed}-{i}"
        items.append(
            RawItem(
                item_id=make_item_id(item_feed, guid),
                feed=item_feed,
                url=f"https://example.invalid/{feed}/{i}",
                title=None,
                published=_iso(published),
                fetched_at=_iso(published + timedelta(seconds=30)),
                content=text,
                content_type="text/plain",
                guid=guid,
            )
        )
    return items


def sentinel_items(partitions: int, *, seed: int, when: datetime | None = None) -> list[RawItem]:
    """One short item per ``news.raw`` partition, each with a text of its own (random words
    from the corpus, so no sentinel is a near-duplicate of anything)."""
    rng = random.Random(seed * 7919 + 17)
    vocab = sorted(
        {w for paras in _story_pool()[:60] for p in paras for w in p.split() if w.isalpha()}
    )
    at = when or datetime.now(UTC)
    out = []
    for p in range(partitions):
        head = " ".join(rng.choice(vocab) for _ in range(8))
        words = " ".join(rng.choice(vocab) for _ in range(30))
        guid = f"sentinel-{seed}-{p}-{uuid.uuid4().hex[:8]}"
        out.append(
            RawItem(
                item_id=make_item_id(SENTINEL_FEED, guid),
                feed=SENTINEL_FEED,
                url=f"https://example.invalid/sentinel/{p}",
                title=None,
                published=_iso(at),
                fetched_at=_iso(at),
                content=f"{head.capitalize()}\n{words.capitalize()}.",
                content_type="text/plain",
                guid=guid,
            )
        )
    return out


# ------------------------------------------------------------------------------ the expectation


@dataclass
class Expected:
    """What ``news-streams process --all`` says about the items."""

    group_of: dict[str, str]
    """event_id of every unit -> event_id of its group's first-seen unit."""
    first: dict[str, dict[str, Any]]
    """first-seen event_id -> its event (text used to explain reorderings)."""

    @property
    def groups(self) -> set[str]:
        return set(self.first)


def expected_for(items: Iterable[RawItem], window_s: float) -> Expected:
    """Run ``news-streams process --jsonl --all`` (the stream's logic, offline) on the items."""
    lines = b"".join(
        orjson.dumps(
            {
                "id": it["item_id"],
                "feed": it["feed"],
                "url": it["url"],
                "title": it["title"],
                "published": it["published"],
                "fetched_at": it["fetched_at"],
                "html" if it["content_type"] == "text/html" else "text": it["content"],
            }
        )
        + b"\n"
        for it in items
    )
    proc = subprocess.run(
        [*PROCESS_CMD, "--window-s", str(window_s), "-"],
        input=lines,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"news-streams process failed: {proc.stderr.decode()[-2000:]}")
    group_of: dict[str, str] = {}
    first: dict[str, dict[str, Any]] = {}
    for line in proc.stdout.splitlines():
        obj = orjson.loads(line)
        if "duplicate_of" in obj:
            group_of[obj["event_id"]] = obj["duplicate_of"]
        else:
            group_of[obj["event_id"]] = obj["event_id"]
            first[obj["event_id"]] = {
                "text": obj["text"],
                "kind": obj["kind"],
                "item_id": obj.get("item_id", ""),
            }
    # A duplicate of a duplicate resolves to the first-seen unit of the chain.
    for eid, g in list(group_of.items()):
        seen = {eid}
        while group_of.get(g, g) != g and g not in seen:
            seen.add(g)
            g = group_of[g]
        group_of[eid] = g
    return Expected(group_of, first)


# ------------------------------------------------------------------------------- the processes


def worker_env(
    bootstrap: str, data_dir: Path, app_id: str, guarantee: str, **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
    env.update(
        NEWS_BOOTSTRAP_SERVERS=bootstrap,
        NEWS_DATA_DIR=str(data_dir),
        NEWS_APP_ID=app_id,
        NEWS_WEB_PORT=str(free_port()),
        NEWS_METRICS_PORT="0",
        NEWS_PROCESSING_GUARANTEE=guarantee,
        NEWS_LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


class WorkerProc:
    """``news-streams worker`` as an operator starts it; log appended to ``data_dir/worker.log``
    (a restart on the same data dir keeps appending, with a marker line)."""

    def __init__(self, env: dict[str, str], name: str = "w") -> None:
        self.env = env
        self.name = name
        self.data_dir = Path(env["NEWS_DATA_DIR"])
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / "worker.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"==== chaos: start {self.name} at {time.time():.3f}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "streams.cli", "worker"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )
        self.started_at = time.monotonic()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """``kill -9`` of the worker's process group: no shutdown code runs."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            assert self.proc is not None
            self.proc.wait(30)

    def kill9_children(self) -> list[int]:
        """``kill -9`` of the worker's child processes (its text-core pool), not the worker."""
        children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        pids = [int(c) for c in children]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def sigterm(self, timeout: float = 120.0) -> float | None:
        """SIGTERM and wait; seconds until exit (None: not gone within ``timeout``, killed)."""
        if not self.alive():
            return 0.0
        t0 = time.monotonic()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)
        assert self.proc is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill9()
            return None
        return time.monotonic() - t0

    def stop(self, timeout: float = 30.0) -> None:
        if self.alive():
            self.sigterm(timeout)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_between(self, start: int, end: int | None = None) -> list[str]:
        with self.log_path.open("rb") as fh:
            fh.seek(start)
            data = fh.read() if end is None else fh.read(max(0, end - start))
        return data.decode(errors="replace").splitlines()

    def log_tail(self, n: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])


async def _fence(bootstrap: str, transactional_id: str) -> None:
    """Start a transactional producer with this id and commit an empty transaction: Kafka
    fences every earlier producer of the id and aborts its open transaction."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=transactional_id)
    await producer.start()
    try:
        await producer.begin_transaction()
        await producer.commit_transaction()
    finally:
        await producer.stop()


def create_public_topics(env: dict[str, str], partitions: int) -> None:
    """``news-streams topics create`` as a user runs it."""
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "topics", "create", "--partitions", str(partitions)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"topics create failed: {proc.stdout}\n{proc.stderr}")


def new_broker(data_dir: Path, heap: str = "512m") -> EmbeddedBroker:
    s = load_settings()
    port = free_port()
    controller = free_port()
    while controller == port:
        controller = free_port()
    return EmbeddedBroker(
        port=port,
        controller_port=controller,
        data_dir=data_dir,
        cache_dir=s.cache_dir,
        kafka_version=s.kafka_version,
        heap=heap,
        jvm_opts=s.broker_jvm_opts,
    )


def broker_kill9(broker: EmbeddedBroker) -> None:
    """``kill -9`` of the broker JVM (os.kill on the pid in its pid file)."""
    pid = int(broker.pid_file.read_text().strip())
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # our child: reap the zombie
        time.sleep(0.05)


# --------------------------------------------------------------------------- the observations


@dataclass
class Seen:
    """One record read: arrival (monotonic and wall clock), Kafka CreateTime, event fields."""

    t: float
    wall: float
    created: float
    event_id: str
    text: str
    feed: str
    item_id: str


class EventReader:
    """A plain aiokafka consumer on ``news.events`` (``read_committed``, from the beginning,
    no group), stamping each record's arrival with ``time.monotonic()``. Survives outages."""

    def __init__(self, bootstrap: str, topic: str = topics.EVENTS) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.records: list[Seen] = []
        self.errors = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            fetch_max_wait_ms=200,
        )
        await consumer.start()
        try:
            while not self._stop.is_set():
                try:
                    batch = await consumer.getmany(timeout_ms=200, max_records=5000)
                except Exception:  # broker outage: keep trying, as a consumer team would
                    self.errors += 1
                    await asyncio.sleep(0.5)
                    continue
                now, wall = time.monotonic(), time.time()
                for recs in batch.values():
                    for r in recs:
                        ev = orjson.loads(r.value or b"{}")
                        self.records.append(
                            Seen(
                                now,
                                wall,
                                r.timestamp / 1000.0,
                                ev.get("event_id", ""),
                                ev.get("text", ""),
                                ev.get("feed", ""),
                                ev.get("item_id", ""),
                            )
                        )
        finally:
            with contextlib.suppress(Exception):
                await consumer.stop()


class GroupOffsets:
    """Samples the committed offsets of the app's consumer group on ``news.raw`` (our own,
    non-transactional producer writes it, so committed == end means consumed). Used to time a
    takeover: the killed worker's partitions stop advancing until a survivor owns them."""

    def __init__(self, bootstrap: str, group: str, partitions: int) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.tps = [TopicPartition(topics.RAW, p) for p in range(partitions)]
        self.samples: list[tuple[float, dict[int, int]]] = []
        self.end: dict[int, int] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        admin: AIOKafkaAdminClient | None = None
        consumer: AIOKafkaConsumer | None = None
        while not self._stop.is_set():
            try:
                if admin is None:
                    admin = AIOKafkaAdminClient(
                        bootstrap_servers=self.bootstrap, request_timeout_ms=5000
                    )
                    await admin.start()
                if consumer is None:
                    consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
                    await consumer.start()
                offsets = await admin.list_consumer_group_offsets(self.group, partitions=self.tps)
                ends = await consumer.end_offsets(self.tps)
                now = time.monotonic()
                self.samples.append(
                    (now, {tp.partition: om.offset for tp, om in offsets.items() if om.offset >= 0})
                )
                self.end = {tp.partition: off for tp, off in ends.items()}
            except Exception:  # broker outage: reconnect on the next sample
                await self._close(admin, consumer)
                admin = consumer = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 0.5)
        await self._close(admin, consumer)

    @staticmethod
    async def _close(admin: AIOKafkaAdminClient | None, consumer: AIOKafkaConsumer | None) -> None:
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def committed_at(self, t: float) -> dict[int, int]:
        """The last sample at or before monotonic time ``t``."""
        last: dict[int, int] = {}
        for ts, offs in self.samples:
            if ts > t:
                break
            last = offs
        return last

    def takeover_s(
        self, kill_t: float, stall_s: float = 5.0, landed_s: float = 1.5
    ) -> tuple[float | None, list[int]]:
        """Seconds from ``kill_t`` until every partition with records pending has advanced
        again (the slowest one: the killed worker's, taken over), and the partitions that
        stalled longer than ``stall_s`` (longer than a commit interval). ``None`` if some
        partition never moved again during the run.

        The baseline is what is committed ``landed_s`` after the kill, not at it: a commit the
        killed worker made just before dying shows up in a later sample, and would otherwise
        read as a takeover within a second."""
        before = self.committed_at(kill_t + landed_s)
        after = [(ts, offs) for ts, offs in self.samples if ts > kill_t + landed_s]
        if not after:
            return None, []
        worst = 0.0
        stalled: list[int] = []
        never = False
        for p in range(len(self.tps)):
            c0 = before.get(p, -1)
            if self.end.get(p, 0) <= max(c0, 0):
                continue  # nothing pending there: nothing to take over
            moved = next((ts for ts, offs in after if offs.get(p, -1) > c0), None)
            if moved is None:
                never = True
                stalled.append(p)
                continue
            if moved - kill_t > stall_s:
                stalled.append(p)
            worst = max(worst, moved - kill_t)
        return (None if never else worst), stalled


# ------------------------------------------------------------------------------- the scenarios


@dataclass
class Scenario:
    """One run: ``fault`` is none | kill_worker | kill_one_of_two | kill_broker | sigterm |
    kill_core (``kill -9`` of the worker's text-core processes) | add_worker (a second worker
    joins the busy one: a rebalance under load, as when an operator scales out) |
    zombie_fence (another process takes the final partitions' transactional ids mid-stream)."""

    name: str
    fault: str = "none"
    guarantee: str = "at_least_once"
    items: int = 300
    kill_at_events: float | None = None
    """Fault when this fraction of the expected dedup groups has been read."""
    kill_at_produced: float | None = None
    """Fault when this fraction of the items has been produced."""
    burst: float = 1.0
    """Fraction of the items produced at once; the rest at ``rate`` items/s, starting once
    the first event has been read (so a fault by fraction produced hits a running worker)."""
    rate: float = 50.0
    broker_down_s: float = 20.0
    partitions: int = 6
    window_s: float = 86400.0
    timeout_s: float = 300.0
    quiet_s: float = 8.0
    settle_s: float = 3.0
    seed: int = 11
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    scenario: str
    fault: str
    guarantee: str
    items: int
    expected_groups: int
    read_records: int = 0
    read_event_ids: int = 0
    lost_groups: int = 0
    lost_reordered: int = 0
    """Groups not read whose first unit is a near-duplicate of an event that was read: an
    order effect of a non-transitive similarity, not counted as lost."""
    read_twice: int = 0
    extra_in_group: int = 0
    """Event ids beyond one per dedup group (a duplicate got through)."""
    unknown_event_ids: int = 0
    """Event ids ``process --all`` never produced (neither event nor duplicate)."""
    fault_at_s: float | None = None
    """Seconds from the first worker start to the fault."""
    events_before_fault: int = 0
    restart_to_first_event_s: float | None = None
    restart_to_first_new_event_s: float | None = None
    takeover_s: float | None = None
    stalled_partitions: list[int] = field(default_factory=list)
    sigterm_exit_s: float | None = None
    outage_s: float | None = None
    outage_log_lines: int | None = None
    outage_log_lines_per_s: float | None = None
    outage_top_lines: list[tuple[str, int]] = field(default_factory=list)
    raw_missing: int = 0
    """Items of the run not on ``news.raw`` at the end (input lost: a harness or broker fault)."""
    producer_retries: int = 0
    """Times our producer lost the broker and sent unacknowledged items again."""
    completed: bool = False
    """All sentinels arrived (every partition processed past the last item) before timeout."""
    duration_s: float = 0.0
    worker_exit: list[int | None] = field(default_factory=list)
    lost_examples: list[str] = field(default_factory=list)
    twice_examples: list[str] = field(default_factory=list)
    lost_trace: dict[str, dict[str, int]] = field(default_factory=dict)
    """For each lost group (up to 5): records holding its event_id (its item_id on news.raw)
    per topic of the app, committed and all (``*`` = read_uncommitted, aborted ones too), so a
    failure shows the hop where the unit vanished."""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        parts = [
            f"{self.scenario}: lost {self.lost_groups}/{self.expected_groups} groups",
            f"read twice {self.read_twice}",
            f"extra {self.extra_in_group}+{self.unknown_event_ids}",
        ]
        for label, value in (
            ("restart->event", self.restart_to_first_event_s),
            ("restart->new event", self.restart_to_first_new_event_s),
            ("takeover", self.takeover_s),
            ("SIGTERM exit", self.sigterm_exit_s),
            ("outage log lines/s", self.outage_log_lines_per_s),
        ):
            if value is not None:
                parts.append(f"{label} {value:.1f}")
        if not self.completed:
            parts.append("INCOMPLETE (timeout before every sentinel arrived)")
        if self.raw_missing:
            parts.append(f"{self.raw_missing} items missing on news.raw")
        return ", ".join(parts)


def _pattern(line: str) -> str:
    """A log line without its timestamp and numbers, to count message kinds."""
    line = re.sub(r"^\S+ \S+ ", "", line)
    return re.sub(r"\d+", "N", line)[:120]


class Run:
    """Drives one :class:`Scenario` end to end; ``await Run(...).execute()`` -> :class:`Report`."""

    def __init__(
        self,
        sc: Scenario,
        items: list[RawItem],
        expected: Expected,
        workdir: Path,
        log: Any = None,
    ) -> None:
        self.sc = sc
        self.items = items
        self.expected = expected
        self.workdir = workdir
        self.say = log or (lambda msg: None)
        self.app_id = f"chaos-{sc.name}-{uuid.uuid4().hex[:6]}"
        self.produced = 0
        self.broker: EmbeddedBroker | None = None
        self.workers: list[WorkerProc] = []
        self.report = Report(sc.name, sc.fault, sc.guarantee, len(items), len(expected.groups))

    # ---- pieces

    async def _produce(
        self, bootstrap: str, items: list[RawItem], rate: float | None, *, count: bool = True
    ) -> None:
        """Send ``items`` (round robin over the partitions), all at once or at ``rate``/s.

        Like a poller, it outlives a broker outage: on an error it waits, reconnects and sends
        again everything not yet acknowledged (so ``news.raw`` may hold an item twice, as it
        would from a real poller; the pipeline must cope)."""
        acked = 0
        t0 = time.monotonic()
        while acked < len(items):
            producer = AIOKafkaProducer(
                bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=1_048_576
            )
            try:
                await producer.start()
                while acked < len(items):
                    upto = acked + 1 if rate else len(items)
                    futures = [
                        await producer.send(
                            topics.RAW,
                            value=orjson.dumps(items[i]),
                            key=items[i]["item_id"].encode(),
                            partition=i % self.sc.partitions,
                        )
                        for i in range(acked, upto)
                    ]
                    await asyncio.gather(*futures)
                    if count:
                        self.produced += upto - acked
                    acked = upto
                    if rate:
                        delay = t0 + acked / rate - time.monotonic()
                        if delay > 0:
                            await asyncio.sleep(delay)
            except KafkaError as exc:
                self.report.producer_retries += 1
                self.say(f"producer: {exc!r}; retrying from item {acked}")
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await producer.stop()

    async def _producer_task(self, bootstrap: str, reader: EventReader) -> None:
        # k is a multiple of the partition count, so the round robin goes on seamlessly.
        k = int(len(self.items) * self.sc.burst) // self.sc.partitions * self.sc.partitions
        await self._produce(bootstrap, self.items[:k], None)
        if k < len(self.items):
            while k and not reader.records:
                await asyncio.sleep(0.1)
            await self._produce(bootstrap, self.items[k:], self.sc.rate)

    async def _raw_missing(self, bootstrap: str) -> int:
        """Items of the run that are not on ``news.raw`` at the end (a check of the input:
        a group lost because its items never reached the pipeline is not the pipeline's)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
        await consumer.start()
        try:
            tps = [TopicPartition(topics.RAW, p) for p in range(self.sc.partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            ids: set[bytes] = set()
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                positions = [await consumer.position(tp) for tp in tps]
                if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                    break
                batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                ids.update(r.key for recs in batch.values() for r in recs if r.key)
        finally:
            await consumer.stop()
        return sum(1 for it in self.items if it["item_id"].encode() not in ids)

    def _groups_read(self, reader: EventReader) -> int:
        g = self.expected.group_of
        return len({g[r.event_id] for r in reader.records if r.event_id in g})

    async def _wait_fault_moment(self, reader: EventReader, deadline: float) -> None:
        sc = self.sc
        while time.monotonic() < deadline:
            if sc.kill_at_events is not None:
                if self._groups_read(reader) >= sc.kill_at_events * len(self.expected.groups):
                    return
            elif sc.kill_at_produced is not None:
                if self.produced >= sc.kill_at_produced * len(self.items):
                    return
            else:
                return
            await asyncio.sleep(0.05)
        self.report.notes.append("fault moment not reached before the timeout")

    @staticmethod
    def _first_after(reader: EventReader, wall: float, new_only: bool) -> float | None:
        """Seconds from ``wall`` until the first event *produced* after it (Kafka CreateTime,
        so records the dead worker committed before are not counted) was read."""
        before = {r.event_id for r in reader.records if r.created < wall} if new_only else set()
        for r in reader.records:
            if r.created >= wall and r.event_id not in before and r.feed != SENTINEL_FEED:
                return r.wall - wall
        for r in reader.records:  # nothing but sentinels after the restart
            if r.created >= wall:
                return r.wall - wall
        return None

    # ---- the run

    async def execute(self) -> Report:
        sc, rep = self.sc, self.report
        t_begin = time.monotonic()
        deadline = t_begin + sc.timeout_s
        self.broker = new_broker(self.workdir / "kafka")
        await asyncio.to_thread(self.broker.start, 120)
        bootstrap = self.broker.bootstrap
        env = worker_env(
            bootstrap,
            self.workdir / "w1",
            self.app_id,
            sc.guarantee,
            NEWS_PARTITIONS=str(sc.partitions),
            NEWS_DEDUP_WINDOW_S=str(sc.window_s),
            **sc.extra_env,
        )
        await asyncio.to_thread(create_public_topics, env, sc.partitions)
        reader = EventReader(bootstrap)
        reader.start()
        offsets = GroupOffsets(bootstrap, self.app_id, sc.partitions)
        offsets.start()
        producer: asyncio.Task[None] | None = None
        try:
            self.workers.append(WorkerProc(env, "w1"))
            if sc.fault in ("kill_one_of_two", "add_worker"):
                env2 = {**env, "NEWS_DATA_DIR": str(self.workdir / "w2")}
                env2["NEWS_WEB_PORT"] = str(free_port())
                self.workers.append(WorkerProc(env2, "w2"))
            for w in self.workers[: 1 if sc.fault == "add_worker" else None]:
                w.start()
            t_start = self.workers[0].started_at
            producer = asyncio.create_task(self._producer_task(bootstrap, reader))
            await self._wait_fault_moment(reader, deadline)
            fault_t = time.monotonic()
            rep.fault_at_s = fault_t - t_start
            rep.events_before_fault = len(reader.records)
            self.say(
                f"{sc.name}: fault {sc.fault} at {rep.fault_at_s:.1f}s, {self.produced} "
                f"items produced, {rep.events_before_fault} events read"
            )
            restart_t = await self._inject(reader, offsets, fault_t)
            if producer is not None:
                await producer
            await self._finish(bootstrap, reader, deadline)
            rep.raw_missing = await self._raw_missing(bootstrap)
            if rep.raw_missing:
                rep.notes.append(
                    f"{rep.raw_missing} acknowledged items are not on news.raw (lost by the "
                    "broker, not by the pipeline)"
                )
            if restart_t is not None:
                rep.restart_to_first_event_s = self._first_after(reader, restart_t, False)
                rep.restart_to_first_new_event_s = self._first_after(reader, restart_t, True)
            if sc.fault == "kill_one_of_two":
                rep.takeover_s, rep.stalled_partitions = offsets.takeover_s(fault_t)
        finally:
            if producer is not None and not producer.done():
                producer.cancel()
                with contextlib.suppress(BaseException):
                    await producer
            for w in self.workers:
                await asyncio.to_thread(w.stop, 30)
                rep.worker_exit.append(w.proc.returncode if w.proc else None)
            await reader.stop()
            await offsets.stop()
            self._score(reader)
            if rep.lost_groups:
                with contextlib.suppress(Exception):
                    rep.lost_trace = await self._trace_lost(bootstrap)
            await asyncio.to_thread(self.broker.stop)
        rep.duration_s = time.monotonic() - t_begin
        self.say(rep.summary())
        return rep

    async def _inject(
        self, reader: EventReader, offsets: GroupOffsets, fault_t: float
    ) -> float | None:
        """Inject the fault; the wall-clock time of the (re)start that recovery is timed from."""
        sc, rep = self.sc, self.report
        assert self.broker is not None
        if sc.fault == "none":
            return None
        if sc.fault == "kill_worker":
            w = self.workers[0]
            await asyncio.to_thread(w.kill9)
            w.start()
            return time.time()
        if sc.fault == "sigterm":
            w = self.workers[0]
            rep.sigterm_exit_s = await asyncio.to_thread(w.sigterm, 120)
            w.start()
            return time.time()
        if sc.fault == "kill_one_of_two":
            await asyncio.to_thread(self.workers[1].kill9)
            return None
        if sc.fault == "zombie_fence":
            # A former owner's late batch: a producer with each final partition's transactional
            # id (README: ``<app>-final-<partition>``) starts and commits while the worker owns
            # the partitions, fencing its producers mid-stream, three times over 2 s.
            for _ in range(3):
                await asyncio.gather(
                    *(
                        _fence(self.broker.bootstrap, f"{self.app_id}-final-{p}")
                        for p in range(sc.partitions)
                    )
                )
                await asyncio.sleep(1.0)
            return None
        if sc.fault == "add_worker":
            self.workers[1].start()
            return None
        if sc.fault == "kill_core":
            rep.notes.append(f"killed text-core processes {self.workers[0].kill9_children()}")
            return None
        if sc.fault == "kill_broker":
            sizes = [w.log_size() for w in self.workers]
            await asyncio.to_thread(broker_kill9, self.broker)
            await asyncio.sleep(sc.broker_down_s)
            down = time.monotonic() - fault_t
            lines = [
                ln for w, s in zip(self.workers, sizes, strict=True) for ln in w.log_between(s)
            ]
            rep.outage_s = down
            rep.outage_log_lines = len(lines)
            rep.outage_log_lines_per_s = len(lines) / down
            rep.outage_top_lines = collections.Counter(map(_pattern, lines)).most_common(5)
            await asyncio.to_thread(self.broker.start, 120)
            return time.time()
        raise ValueError(f"unknown fault {sc.fault!r}")

    async def _finish(self, bootstrap: str, reader: EventReader, deadline: float) -> None:
        """Produce the sentinels, wait for all of them and for quiet (or the deadline)."""
        sentinels = sentinel_items(self.sc.partitions, seed=self.sc.seed)
        ids = {it["item_id"] for it in sentinels}
        await self._produce(bootstrap, sentinels, None, count=False)  # one per partition
        groups = self.expected.groups
        g = self.expected.group_of
        while time.monotonic() < deadline:
            now = time.monotonic()
            recs = reader.records
            sentinels_in = ids <= {r.item_id for r in recs if r.feed == SENTINEL_FEED}
            last = recs[-1].t if recs else 0.0
            all_groups = {g[r.event_id] for r in recs if r.event_id in g} >= groups
            if sentinels_in and all_groups and now - last >= self.sc.settle_s:
                self.report.completed = True
                return
            if sentinels_in and now - last >= self.sc.quiet_s:
                self.report.completed = True
                return
            await asyncio.sleep(0.25)
        self.report.notes.append(f"timeout after {self.sc.timeout_s:.0f}s")

    async def _trace_lost(self, bootstrap: str) -> dict[str, dict[str, int]]:
        """Where the lost groups' units are: see :attr:`Report.lost_trace`."""
        lost = [e.split(":", 1)[0] for e in self.report.lost_examples]
        item_of = {eid: self.expected.first[eid].get("item_id", "") for eid in lost}
        out: dict[str, dict[str, int]] = {eid: {} for eid in lost}
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            names = [t for t in await admin.list_topics() if t.startswith((self.app_id, "news."))]
            described = await admin.describe_topics(names)
            all_tps = [
                TopicPartition(d["topic"], p["partition"])
                for d in described
                for p in d["partitions"]
            ]
        finally:
            await admin.close()
        for isolation, mark in (("read_committed", ""), ("read_uncommitted", "*")):
            consumer = AIOKafkaConsumer(
                bootstrap_servers=bootstrap, group_id=None, isolation_level=isolation
            )
            await consumer.start()
            try:
                tps = list(all_tps)
                consumer.assign(tps)
                await consumer.seek_to_beginning(*tps)
                ends = await consumer.end_offsets(tps)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                        break
                    batch = await consumer.getmany(timeout_ms=1000, max_records=10_000)
                    for tp, recs in batch.items():
                        for r in recs:
                            value = r.value or b""
                            for eid in lost:
                                item = item_of[eid].encode()
                                if eid.encode() in value or (
                                    tp.topic == topics.RAW and item and r.key == item
                                ):
                                    where = out[eid]
                                    key = f"{tp.topic}{mark}"
                                    where[key] = where.get(key, 0) + 1
            finally:
                await consumer.stop()
        return out

    def _score(self, reader: EventReader) -> None:
        rep, exp = self.report, self.expected
        recs = [r for r in reader.records if r.feed != SENTINEL_FEED]
        counts = collections.Counter(r.event_id for r in recs)
        rep.read_records = len(recs)
        rep.read_event_ids = len(counts)
        twice = [eid for eid, c in counts.items() if c > 1]
        rep.read_twice = len(twice)
        rep.twice_examples = twice[:5]
        by_group: dict[str, set[str]] = collections.defaultdict(set)
        unknown = 0
        for eid in counts:
            grp = exp.group_of.get(eid)
            if grp is None:
                unknown += 1
            else:
                by_group[grp].add(eid)
        rep.unknown_event_ids = unknown
        rep.extra_in_group = sum(len(v) - 1 for v in by_group.values())
        missing = [grp for grp in exp.groups if grp not in by_group]
        # Index what was read by stage key: a missing group whose first unit is a near-duplicate
        # of a read event was absorbed by another group because of the order of arrival.
        text_of = {r.event_id: r.text for r in recs}
        index: dict[str, list[Signature]] = collections.defaultdict(list)
        if missing:
            for text in text_of.values():
                sig = signature(text)
                for k in sig.keys:
                    index[k].append(sig)
        lost: list[str] = []
        for grp in missing:
            sig = signature(exp.first[grp]["text"])
            if any(is_duplicate(sig, other) for k in sig.keys for other in index.get(k, [])):
                rep.lost_reordered += 1
            else:
                lost.append(grp)
        rep.lost_groups = len(lost)
        rep.lost_examples = [f"{e}: {exp.first[e]['text'][:80]}" for e in lost[:5]]


async def run_scenario(
    sc: Scenario,
    *,
    workdir: Path | None = None,
    items: list[RawItem] | None = None,
    expected: Expected | None = None,
    log: Any = None,
) -> Report:
    """Build items and the expectation (unless given), run ``sc`` in ``workdir`` (a temp dir
    removed afterwards when not given), return the report."""
    items = items if items is not None else build_items(sc.items, seed=sc.seed)
    if expected is None:
        expected = await asyncio.to_thread(expected_for, items, sc.window_s)
    if workdir is not None:
        return await Run(sc, items, expected, workdir, log).execute()
    with tempfile.TemporaryDirectory(prefix=f"chaos-{sc.name}-") as tmp:
        return await Run(sc, items, expected, Path(tmp), log).execute()
