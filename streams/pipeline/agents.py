"""The agents: raw items -> units -> dedup stage 0 .. STAGES-1 -> events, a batch at a time.

Each agent takes a batch of records (``stream.take_events``), calls the pure core on all of it,
and writes what it produced as few records as possible: the units bound for one partition of the
next stage travel as one record (a JSON list), so a hop costs per batch, not per unit. The public
topics keep one event per record. The order of writes that makes this crash-safe is documented
once, in ``streams/pipeline/state.py``. ``take_events`` acks a batch when our code returns to
it, also when our code raised: so a stage batch returns only once it is committed or once its
partition is no longer held (:meth:`Runtime.run_stage`), and any other failure exits the process
before the ack (:func:`_fail_batch`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NoReturn, TypeVar

import orjson
import xxhash
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from faust.types import TP as FaustTP

from streams import topics
from streams.events import HEADERS
from streams.kafka import client_kwargs
from streams.metrics import (
    BATCH_SECONDS,
    BATCH_SIZE,
    DUPLICATES,
    EVENT_LATENCY_SECONDS,
    EVENTS,
    PROCESS_SECONDS,
    RAW_CONSUMED,
    STAGE_RETRIES,
    STATE_ENTRIES,
    STATE_RESTORE_SECONDS,
    TAG_EVENTS,
    UNITS,
    labelled,
)
from streams.pipeline.app import Pipeline, state_topic
from streams.pipeline.core import CoreOut, build_events, make_executor, split_values
from streams.pipeline.dlq import dlq_record
from streams.pipeline.health import RESTORES
from streams.pipeline.output import Fenced, Outputs, Record
from streams.pipeline.state import PartitionState, encode_bucket
from streams.text.fingerprint import STAGES
from streams.text.units import Unit
from streams.times import parse_time

log = logging.getLogger(__name__)
T = TypeVar("T")

EXIT_BATCH_FAILED = 70
"""Exit status of a worker that stopped on a failed batch (EX_SOFTWARE): restart it."""

UNITS_RECORD_BYTES = 512 * 1024
"""Units bound for one partition are packed into records of at most this size."""


def register(p: Pipeline) -> None:
    """Attach every agent to ``p.app``."""
    rt = Runtime(p)
    _register_split(p, rt)
    for stage in range(STAGES):
        _register_stage(p, rt, stage)

    # Faust's signal typing does not accept coroutine functions (it calls and awaits them).
    @p.app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(app: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        assigned: set[TP] = args[0] if args else kwargs.get("assigned", set())
        rt.assigned(assigned)

    @p.app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def on_revoked(app: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        revoked: set[TP] = args[0] if args else kwargs.get("revoked", set())
        await rt.revoked(revoked)

    @p.app.task
    async def quiet_logs() -> None:
        # Faust configures logging when the worker starts; filter its handlers from then on.
        from streams.logs import install, install_task_dump

        install()
        install_task_dump()

    @p.app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def on_shutdown(app: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        # A hard bound on shutdown: a batch retrying against an unreachable broker must not
        # keep the process (and a rolling upgrade) waiting; what it had not committed replays.
        import os
        import threading

        timer = threading.Timer(p.settings.shutdown_timeout_s, os._exit, (1,))
        timer.daemon = True
        timer.start()
        rt.stop_core()
        await rt.outputs.stop()


TP = Any  # faust.types.TP (a TopicPartition namedtuple)


class CorePool:
    """A text-core executor that replaces itself when one of its processes dies."""

    def __init__(self, name: str, processes: int) -> None:
        self.name = name
        self.processes = processes
        self.executor, self.slices = make_executor(processes)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the pool.

        A pool process that died (killed, out of memory) breaks the pool: it is replaced and
        the call made again (nothing of the batch was sent or acknowledged yet).
        """
        loop = asyncio.get_running_loop()
        pool = self.executor
        try:
            return await loop.run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            if pool is self.executor:  # the first caller to notice replaces it
                log.error("a text-core process died (%s pool); starting a new pool", self.name)
                pool.shutdown(wait=False, cancel_futures=True)
                self.executor, self.slices = make_executor(self.processes)
            return await loop.run_in_executor(self.executor, fn, *args)

    def stop(self) -> None:
        """Stop without waiting for a call in progress (its batch replays)."""
        self.executor.shutdown(wait=False, cancel_futures=True)


class Runtime:
    """Per-process state of the agents: producers, stage partition states, the shortcut."""

    def __init__(self, p: Pipeline) -> None:
        self.p = p
        self.settings = p.settings
        self.outputs = Outputs(p.settings)
        self.states: dict[tuple[int, int], PartitionState] = {}
        self._locks: dict[tuple[int, int], asyncio.Lock] = {}
        self._partitions: dict[str, int] = {}
        self._owned: set[tuple[int, int]] = set()
        self._background: set[asyncio.Future[None]] = set()
        self.exactly_once = p.settings.processing_guarantee == "exactly_once"
        # Packing units for a hop runs on a thread of its own, off the event loop.
        self._cpu = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack")
        # The text core (most of a worker's CPU: splitting, tagging) runs in process pools: on a
        # thread it would hold the GIL and stall every Kafka round trip (``core.py``). The final
        # stage's events get a process of their own: in the splitting pool they would queue
        # behind whole split slices, and every event's latency would include them.
        n = p.settings.core_processes
        self._split_pool = CorePool("split", n)
        self._events_pool = CorePool("events", 1) if n > 0 else self._split_pool

    async def cpu(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the packing thread, keeping the loop free for I/O."""
        return await asyncio.get_running_loop().run_in_executor(self._cpu, fn, *args)

    async def split(self, values: list[bytes | None]) -> CoreOut:
        """The text core over one batch of raw record values, cut into one slice per process.

        A pool process that died (killed, out of memory) breaks the pool: it is replaced and
        the batch is split again (nothing of it was sent or acknowledged yet).
        """
        n = await self.partitions(topics.units_topic(self.settings.app_id, 0))
        limit = self.settings.max_record_bytes
        window = self.settings.dedup_window_s
        size = max(1, -(-len(values) // self._split_pool.slices))
        parts = await asyncio.gather(
            *(
                self._split_pool.run(split_values, values[i : i + size], i, limit, n, window)
                for i in range(0, len(values), size)
            )
        )
        merged = CoreOut()
        for part in parts:
            merged.dead.extend(part.dead)
            merged.units.extend(part.units)
            merged.local += part.local
            for kind, count in part.kinds.items():
                merged.kinds[kind] = merged.kinds.get(kind, 0) + count
            merged.items += part.items
            merged.seconds.extend(part.seconds)
            merged.errors.extend(part.errors)
        return merged

    def stop_core(self) -> None:
        """Stop the text-core pools without waiting for a batch in them (it replays)."""
        self._split_pool.stop()
        self._events_pool.stop()

    async def partitions(self, topic: str) -> int:
        n = self._partitions.get(topic)
        if n is None:
            n = self._partitions[topic] = await self.outputs.partitions(topic)
        return n

    # -- state lifecycle ---------------------------------------------------------------------
    def lock(self, stage: int, partition: int) -> asyncio.Lock:
        """Serialises a partition's batches, its restore and its revocation.

        A batch in flight must commit before the partition's state is dropped or restored
        again, or a restore could miss that batch's entries and its replay emit them twice.
        """
        key = (stage, partition)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    async def state(self, stage: int, partition: int) -> PartitionState:
        """The partition's committed state, restored from its state topic on first use.

        Call with :meth:`lock` held.
        """
        key = (stage, partition)
        state = self.states.get(key)
        if state is None:
            with RESTORES.track(stage, partition):  # /readyz is 503 meanwhile
                state = self.states[key] = await self._restore(stage, partition)
        return state

    async def _restore(self, stage: int, partition: int) -> PartitionState:
        started = time.monotonic()
        final = stage == STAGES - 1
        if final and self.exactly_once:
            await self.outputs.transactional(partition)  # fence the previous owner first
        state = PartitionState(stage, self.settings.dedup_window_s)
        tp = TopicPartition(state_topic(self.settings, stage), partition)
        consumer = AIOKafkaConsumer(
            **client_kwargs(self.settings),
            enable_auto_commit=False,
            isolation_level="read_committed",
            max_partition_fetch_bytes=self.settings.max_record_bytes + 64 * 1024,
        )
        await consumer.start()
        count = 0
        try:
            consumer.assign([tp])
            await consumer.seek_to_beginning(tp)
            end = (await consumer.end_offsets([tp]))[tp]
            while await consumer.position(tp) < end:
                batch = await consumer.getmany(tp, timeout_ms=1000, max_records=10_000)
                for rec in batch.get(tp, ()):
                    state.restore(rec.key.decode(), rec.value)
                    count += 1
        finally:
            await consumer.stop()
        state.sweep()
        elapsed = time.monotonic() - started
        STATE_RESTORE_SECONDS.observe(elapsed)
        log.info(
            "dedup stage %d partition %d restored: %d records, %d live entries in %.2f s",
            stage,
            partition,
            count,
            len(state),
            elapsed,
        )
        return state

    def _stage_partitions(self, tps: Iterable[TP]) -> list[tuple[int, int]]:
        names = {topics.units_topic(self.settings.app_id, st): st for st in range(STAGES)}
        return [(names[tp.topic], tp.partition) for tp in tps if tp.topic in names]

    def assigned(self, assigned: Iterable[TP]) -> None:
        """Restore newly assigned stage partitions now, in the background, not on first use.

        The first batches after a start or a rebalance then find their state ready instead of
        each waiting for a restore (and, in the final stage, for fencing its predecessor);
        ``/readyz`` reports 503 until all are restored. A batch that comes first waits on the
        partition's lock, which the restore holds.
        """
        for key in self._stage_partitions(assigned):
            self._owned.add(key)
            if key not in self.states:
                RESTORES.active.add(key)  # not ready from now on, not only once it has begun
                task = asyncio.ensure_future(self._restore_owned(*key))
                self._background.add(task)
                task.add_done_callback(self._background.discard)

    async def _restore_owned(self, stage: int, partition: int) -> None:
        try:
            async with self.lock(stage, partition):
                if (stage, partition) not in self._owned:
                    return  # revoked before its turn: the next owner restores it
                await self.state(stage, partition)
        except Exception:  # the first batch retries the restore
            log.exception("dedup stage %d partition %d: restore failed", stage, partition)
        finally:
            RESTORES.active.discard((stage, partition))

    async def revoked(self, revoked: Iterable[TP]) -> None:
        """Forget the state of partitions this worker no longer owns (the next owner restores)."""
        keys = self._stage_partitions(revoked)
        self._owned.difference_update(keys)  # before any wait: a pending restore skips them
        for stage, partition in keys:
            async with self.lock(stage, partition):
                self.states.pop((stage, partition), None)
                if stage == STAGES - 1:
                    await self.outputs.drop(partition)

    # -- hops --------------------------------------------------------------------------------
    async def unit_records(self, stage: int, units: Sequence[Unit]) -> list[Record]:
        """Units bound for ``stage``, packed per target partition (one record each, chunked)."""
        topic = topics.units_topic(self.settings.app_id, stage)
        n = await self.partitions(topic)
        return await self.cpu(_pack_units, topic, n, stage, units)

    async def event_records(self, partition: int, units: Sequence[Unit]) -> list[Record]:
        """One record per event on ``news.events`` and one per tag topic it belongs to.

        Keyed by event id, and written to partition ``partition`` (mod the topic's count) of
        each topic: the final-stage partition that decided them. An event id still always lands
        in one partition, and a transaction touches one partition per topic instead of all of
        them, which keeps commits cheap (transaction markers are written per partition).
        """
        counts = {t: await self.partitions(t) for t in self._event_topics()}
        built = await self._events_pool.run(build_events, [u.to_json() for u in units])
        return _event_records(partition, built, counts, set(self.p.tag_ids))

    def _event_topics(self) -> list[str]:
        return [topics.EVENTS, *(topics.tag_topic(t) for t in self.p.tag_ids)]

    def owns(self, stage: int, partition: int) -> bool:
        """Whether this worker's consumer holds partition ``partition`` of the stage's input.

        The same test Faust applies before committing an acknowledged offset: a batch of a
        partition not held is never committed here, so its owner replays it. Deciding it here
        instead would restore the partition's state and, in the final stage, start its
        transactional producer: that fences the rightful owner in the middle of its own batch.
        """
        tp = FaustTP(topics.units_topic(self.settings.app_id, stage), partition)
        return tp in self.held()

    def held(self) -> set[TP]:
        """The input partitions this worker's consumer holds now (Faust's assignment)."""
        assignment: set[TP] = self.p.app.consumer.assignment()
        return assignment

    async def run_stage(self, stage: int, partition: int, units: list[Unit]) -> bool:
        """Decide one partition's batch, commit its outputs and state, then apply the state.

        Returns True once the batch is committed, False once the partition is no longer ours
        (its owner replays the batch; the caller keeps Faust from recording its offsets, see
        :func:`_leave_unacked`). Faust acknowledges the batch's offsets when the agent returns
        to it, so returning early on any other failure would lose the batch: a fenced
        transaction or a failed restore or commit is retried here, from a fresh restore.
        """
        async with self.lock(stage, partition):
            delay = 0.5
            while True:
                if not self.owns(stage, partition):
                    labelled(STAGE_RETRIES, str(stage), "not_owned").inc()
                    log.info(
                        "dedup stage %d partition %d: a batch of %d units left to the "
                        "partition's new owner (it moved in a rebalance)",
                        stage,
                        partition,
                        len(units),
                    )
                    return False
                try:
                    await self._run_stage(stage, partition, units)
                except Fenced as exc:
                    # We hold the input partition, so whoever started the producer since is
                    # a former owner's late batch: fence it back, restore, decide again.
                    self.states.pop((stage, partition), None)
                    labelled(STAGE_RETRIES, str(stage), "fenced").inc()
                    log.warning(
                        "dedup stage %d partition %d: transaction fenced by another process "
                        "while this worker holds the partition (%s); restoring and deciding "
                        "the batch again",
                        stage,
                        partition,
                        exc,
                    )
                except KafkaError as exc:
                    self.states.pop((stage, partition), None)
                    labelled(STAGE_RETRIES, str(stage), "kafka").inc()
                    self.outputs.failing(f"dedup stage {stage} restore/transaction", exc)
                else:
                    self.outputs.working(f"dedup stage {stage} restore/transaction")
                    return True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _run_stage(self, stage: int, partition: int, units: list[Unit]) -> None:
        final = stage == STAGES - 1
        state = await self.state(stage, partition)
        t0 = time.perf_counter()
        decision = state.decide(units)
        if decision.dropped:
            labelled(DUPLICATES, str(stage)).inc(decision.dropped)
        if decision.writes:
            topic = state_topic(self.settings, stage)
            changelog = [
                Record(topic, encode_bucket(b), key=k.encode(), partition=partition)
                for k, b in decision.writes.items()
            ]
            if final:
                outputs = await self.event_records(partition, decision.kept)
            else:
                outputs = await self.unit_records(stage + 1, decision.kept)
            t1 = time.perf_counter()
            labelled(BATCH_SECONDS, f"s{stage}", "process").observe(t1 - t0)
            if final and self.exactly_once:
                await self.outputs.commit(partition, [*outputs, *changelog])
            else:
                await self.outputs.send(outputs)
                await self.outputs.send(changelog)
            labelled(BATCH_SECONDS, f"s{stage}", "write").observe(time.perf_counter() - t1)
        state.apply(decision)
        labelled(STATE_ENTRIES, str(stage), str(partition)).set(len(state))


def _chunks(encoded: list[bytes], limit: int) -> Iterable[list[bytes]]:
    chunk: list[bytes] = []
    size = 0
    for e in encoded:
        if chunk and size + len(e) + 1 > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(e)
        size += len(e) + 1
    if chunk:
        yield chunk


def _pack_units(topic: str, n: int, stage: int, units: Sequence[Unit]) -> list[Record]:
    by_partition: dict[int, list[bytes]] = defaultdict(list)
    for unit in units:
        key = unit.sig.keys[stage].encode()
        by_partition[xxhash.xxh3_64_intdigest(key) % n].append(orjson.dumps(unit.to_json()))
    return _unit_records(topic, by_partition)


def _unit_records(topic: str, by_partition: dict[int, list[bytes]]) -> list[Record]:
    """One record (a JSON list) per target partition, chunked to ``UNITS_RECORD_BYTES``."""
    out: list[Record] = []
    for partition, encoded in sorted(by_partition.items()):
        for chunk in _chunks(encoded, UNITS_RECORD_BYTES):
            value = b"[" + b",".join(chunk) + b"]"
            out.append(Record(topic, value, partition=partition))
    return out


def _event_records(
    partition: int,
    built: Sequence[tuple[str, bytes, list[str], str, str]],
    counts: dict[str, int],
    known: set[str],
) -> list[Record]:
    out: list[Record] = []
    now = time.time()
    n = counts[topics.EVENTS]
    tagged: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for event_id, data, tags, kind, fetched_at in built:
        key = event_id.encode()
        out.append(Record(topics.EVENTS, data, key=key, partition=partition % n, headers=HEADERS))
        for tag_id in tags:
            if tag_id in known:
                topic = topics.tag_topic(tag_id)
                out.append(
                    Record(
                        topic, data, key=key, partition=partition % counts[topic], headers=HEADERS
                    )
                )
                tagged[tag_id] += 1
        kinds[kind] += 1
        fetched = parse_time(fetched_at)
        if fetched is not None:
            EVENT_LATENCY_SECONDS.observe(max(0.0, now - fetched.timestamp()))
    for tag_id, count in tagged.items():
        labelled(TAG_EVENTS, tag_id).inc(count)
    for kind, count in kinds.items():
        labelled(EVENTS, kind).inc(count)
    return out


def _forward(batch: Sequence[Any], out: CoreOut, topic: str) -> list[Record]:
    """Dead letters and stage-0 unit records of a split batch (the core's output)."""
    RAW_CONSUMED.inc(out.items)
    for seconds in out.seconds:
        PROCESS_SECONDS.observe(seconds)
    for line in out.errors:
        log.error("%s", line)
    dead = [
        _dead(batch[d.record].message, d.element, d.reason, d.code, d.single, d.index)
        for d in out.dead
    ]
    for kind, count in out.kinds.items():
        labelled(UNITS, kind).inc(count)
    if out.local:
        labelled(DUPLICATES, "local").inc(out.local)
    # Earliest publication first: within a batch, arrival order across partitions is arbitrary,
    # and the first of two near-duplicates to be decided is the one that is kept.
    out.units.sort(key=lambda u: u[0])
    by_partition: dict[int, list[bytes]] = defaultdict(list)
    for _, partition, data in out.units:
        by_partition[partition].append(data)
    return [*dead, *_unit_records(topic, by_partition)]


def _register_split(p: Pipeline, rt: Runtime) -> None:
    s = p.settings
    topic = topics.units_topic(s.app_id, 0)

    @p.app.agent(p.raw, name=f"{s.app_id}.split")
    async def split_items(stream: Any) -> None:
        async for batch in stream.take_events(s.batch_max, within=s.batch_within_s):
            try:
                labelled(BATCH_SIZE, "split").observe(len(batch))
                t0 = time.perf_counter()
                core = await rt.split([event.value for event in batch])
                out = _forward(batch, core, topic)
                t1 = time.perf_counter()
                await rt.outputs.send(out)
                labelled(BATCH_SECONDS, "split", "process").observe(t1 - t0)
                labelled(BATCH_SECONDS, "split", "write").observe(time.perf_counter() - t1)
                # Written, but a partition revoked meanwhile is its new owner's to commit.
                held = rt.held()
                _leave_unacked([e for e in batch if e.message.tp not in held])
            except Exception as exc:
                _fail_batch("split", exc)


def _fail_batch(agent: str, exc: BaseException) -> NoReturn:
    """Exit at once, before Faust acknowledges a batch our code failed on.

    ``take_events`` acknowledges a batch when control returns to it, also when our code raised,
    and Faust then commits offsets whose outputs were never written: a silent loss. Exiting
    without returning leaves them uncommitted, so the batch replays after the restart (or at
    the partition's next owner). Kafka Streams' default for an uncaught exception is the same:
    stop, commit nothing. Bad input never gets here (it goes to the dead-letter topic); this is
    for bugs and for failures our retries do not cover.
    """
    log.critical(
        "%s: a batch failed (%r); exiting without acknowledging it, so it is processed "
        "again after a restart",
        agent,
        exc,
        exc_info=exc,
    )
    logging.shutdown()
    os._exit(EXIT_BATCH_FAILED)


def _dead(msg: Any, element: Any, reason: str, code: str, single: bool, index: int) -> Record:
    """The dead letter of one item: the record as it was, or the item of a list record."""
    if single:
        return dlq_record(msg, reason, code)
    value = msg.value if element is None else orjson.dumps(element)
    return dlq_record(msg, f"item {index} of the record: {reason}", code, value=value)


def _register_stage(p: Pipeline, rt: Runtime, stage: int) -> None:
    s = p.settings

    @p.app.agent(p.units[stage], name=f"{s.app_id}.dedup-s{stage}")
    async def dedup(stream: Any) -> None:
        async for batch in stream.take_events(s.batch_max, within=s.batch_within_s):
            try:
                by_partition, dead = _decode_units(batch)
                if dead:
                    await rt.outputs.send(dead)
                labelled(BATCH_SIZE, f"s{stage}").observe(
                    sum(len(v) for v in by_partition.values())
                )
                parts = list(by_partition)
                done = await asyncio.gather(
                    *(rt.run_stage(stage, part, by_partition[part]) for part in parts)
                )
                left = {part for part, ok in zip(parts, done, strict=True) if not ok}
                if left:
                    _leave_unacked([e for e in batch if e.message.partition in left])
            except Exception as exc:
                _fail_batch(f"dedup stage {stage}", exc)


def _leave_unacked(events: Sequence[Any]) -> None:
    """Keep Faust from recording these events' offsets as processed (a revoked partition's).

    Faust discards the commit of a partition it no longer holds, but keeps the acknowledged
    offsets: were the partition assigned back to this worker later, they would count as done
    and could be committed before the records are processed again. A message already marked
    acked is skipped by ``take_events``' acknowledgement (``Message.ack``), so it never enters
    that bookkeeping, and ``wait_empty`` does not wait for it.
    """
    for event in events:
        event.message.acked = True


def _decode_units(batch: Sequence[Any]) -> tuple[dict[int, list[Unit]], list[Record]]:
    """A stage batch's units by input partition, earliest publication first, and the dead
    letters of records that are not unit lists (only workers write these topics, so such a
    record means a foreign writer or a corrupted topic: kept, not fatal)."""
    by_partition: dict[int, list[Unit]] = defaultdict(list)
    dead: list[Record] = []
    for event in batch:
        msg = event.message
        try:
            units = [Unit.from_json(u) for u in orjson.loads(event.value)]
        except Exception as exc:  # any malformed shape: JSON, fields, signature
            dead.append(dlq_record(msg, f"not a list of units: {exc!r}", "bad_units"))
            continue
        by_partition[msg.partition].extend(units)
    for units in by_partition.values():
        units.sort(key=lambda u: u.ts)  # earliest publication decided first (stable)
    return by_partition, dead
