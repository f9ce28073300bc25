"""The worker's producers: what it writes, and when a write counts as done.

* One shared idempotent producer (``acks=all``) for next-stage records, state records of the
  non-final stages and dead letters: a send counts once it is acknowledged.
* Under exactly-once, one transactional producer per final-stage input partition, with the
  transactional id ``<app>-final-<partition>``: the events, their tag-topic copies and the
  partition's state records commit together. Whoever owns the partition next starts a producer
  with the same id, which fences the previous owner and aborts its open transaction before the
  new owner reads the state (Kafka's own zombie fencing; no coordination of ours).

Transient broker trouble is retried with backoff and logged once per state change (not once per
attempt), so a broker outage reads as two lines, not thousands.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import IllegalOperation, KafkaError, ProducerFenced

from streams.kafka import client_kwargs, compression_type
from streams.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class Record:
    """One record to produce. ``partition`` None = by key (Kafka's default partitioner)."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int | None = None
    headers: Headers | None = None


class Fenced(Exception):
    """Another worker owns this partition now; its replay decides these records."""


class Outputs:
    """Producers of one worker process (see module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._shared: AIOKafkaProducer | None = None
        self._txn: dict[int, AIOKafkaProducer] = {}
        self._lock = asyncio.Lock()
        self._failing_since: float | None = None

    def _options(self) -> dict[str, Any]:
        return {
            **client_kwargs(self.settings),
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": 5,
            "max_batch_size": 1024 * 1024,
            "compression_type": compression_type(self.settings),
            "max_request_size": self.settings.max_record_bytes + 64 * 1024,
            "request_timeout_ms": 30_000,
        }

    async def shared(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._shared is None:
                producer = AIOKafkaProducer(**self._options())
                await producer.start()
                self._shared = producer
            return self._shared

    async def partitions(self, topic: str) -> int:
        """Partition count of ``topic`` (from metadata; what the units hop spreads over)."""
        producer = await self.shared()
        parts = await producer.partitions_for(topic)
        return len(parts)

    async def send(self, records: Sequence[Record]) -> None:
        """Send and wait until every record is acknowledged (retried until it is)."""
        if records:
            await self.retrying("send", lambda: self._send_once(records))

    async def _send_once(self, records: Sequence[Record]) -> None:
        producer = await self.shared()
        try:
            futures = [await _send(producer, r) for r in records]
            await asyncio.gather(*futures)
        except KafkaError:
            # An idempotent producer whose batch failed may be left with a broken sequence
            # (OutOfOrderSequenceNumber on every later send): start over with a fresh one.
            await self._reset_shared()
            raise

    async def _reset_shared(self) -> None:
        async with self._lock:
            producer, self._shared = self._shared, None
        if producer is not None:
            await _stop_quietly(producer)

    async def transactional(self, partition: int) -> AIOKafkaProducer:
        """The final stage's producer for ``partition``; starting it fences any previous owner."""
        producer = self._txn.get(partition)
        if producer is None:
            tid = f"{self.settings.app_id}-final-{partition}"
            producer = AIOKafkaProducer(
                **self._options(),
                transactional_id=tid,
                transaction_timeout_ms=max(10_000, int(self.settings.session_timeout_s * 2000)),
                # The coordinator answers CONCURRENT_TRANSACTIONS while the previous commit's
                # markers are written; the 100 ms default backoff would idle every commit.
                retry_backoff_ms=20,
            )
            try:
                await producer.start()
                # An empty transaction waits for InitProducerId: once it returns, the previous
                # owner is fenced and its open transaction is aborted, so state reads are final.
                await producer.begin_transaction()
                await producer.commit_transaction()
            except BaseException:
                await _stop_quietly(producer)
                raise
            self._txn[partition] = producer
        return producer

    async def commit(self, partition: int, records: Sequence[Record]) -> None:
        """Send ``records`` in one transaction of the final stage's ``partition`` producer.

        One attempt. On any failure the producer is dropped, and the next one started for the
        partition fences whatever this one left open, so a retry must restore the partition's
        state after that fencing and decide again (``agents.py``): a transaction retried on
        the old decision could repeat what a new owner committed meanwhile. :class:`Fenced` =
        another process started this partition's producer since; other Kafka errors pass
        through as they are.
        """
        producer = await self.transactional(partition)
        try:
            await producer.begin_transaction()
            futures = [await _send(producer, r) for r in records]
            await asyncio.gather(*futures)
            await producer.commit_transaction()
        except ProducerFenced as exc:
            await self.drop(partition)
            raise Fenced(str(exc)) from exc
        except IllegalOperation as exc:
            # Not a KafkaError: aiokafka's transaction left the open state between our calls,
            # when the producer was fenced while its request was in flight (measured).
            await self.drop(partition)
            raise Fenced(f"transaction no longer open: {exc}") from exc
        except KafkaError:
            # Whatever state the transaction is in, a new producer with the same id aborts it.
            await self.drop(partition)
            raise

    async def drop(self, partition: int) -> None:
        """Forget the transactional producer of a partition this worker no longer owns."""
        producer = self._txn.pop(partition, None)
        if producer is not None:
            await _stop_quietly(producer)

    async def retrying(self, what: str, op: Callable[[], Awaitable[T]]) -> T:
        """Run ``op`` until it succeeds; :class:`Fenced` and non-Kafka errors propagate."""
        delay = 0.5
        while True:
            try:
                result = await op()
            except KafkaError as exc:
                self.failing(what, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            self.working(what)
            return result

    def failing(self, what: str, exc: BaseException) -> None:
        """Note a failed Kafka operation (logged once until :meth:`working`)."""
        if self._failing_since is None:
            self._failing_since = time.monotonic()
            log.warning("Kafka %s failing (%s); retrying with backoff", what, exc)

    def working(self, what: str) -> None:
        """Note a Kafka operation that succeeded (logs the end of a failing spell)."""
        if self._failing_since is not None:
            log.warning(
                "Kafka %s working again after %.1f s", what, time.monotonic() - self._failing_since
            )
            self._failing_since = None

    async def stop(self) -> None:
        for partition in list(self._txn):
            await self.drop(partition)
        await self._reset_shared()


async def _send(producer: AIOKafkaProducer, r: Record) -> Awaitable[Any]:
    fut: Awaitable[Any] = await producer.send(
        r.topic, value=r.value, key=r.key, partition=r.partition, headers=r.headers
    )
    return fut


async def _stop_quietly(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), timeout=5.0)
    except Exception as exc:  # a broken producer must not stop the worker
        log.debug("producer stop: %s", exc)
