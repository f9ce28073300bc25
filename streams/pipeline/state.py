"""Dedup state of one stage partition: a cache of its changelog that is never ahead of Kafka.

Why not Faust tables: a ``rocksdb://`` table writes its local store the moment the agent assigns a
value, before the changelog record is acknowledged or any transaction commits, and recovery never
undoes such writes. After ``kill -9`` the store "remembers" units whose output was never
committed, and their replay is dropped as a duplicate: a silent loss (measured: 150 of 1,378
groups). Faust's exactly-once mode does not help: it puts each output record into the transaction
of the *destination* partition (``faust/transport/consumer.py``, ``TransactionManager.send``), not
of the input it came from, so outputs and input offsets never commit together.

The rule this module keeps, for every stage partition::

    an entry is in the cache  =>  its changelog record is committed  =>  the unit's output is
    committed (forwarded to the next stage, or emitted as an event)

Commit order for one batch (see :meth:`PartitionState.decide` and ``agents.py``):

1. decide against the cache plus an overlay of this batch's own new entries (nothing is written);
2. send the outputs (next-stage records, or events and tag-topic copies);
3. send the changelog records (the updated buckets), in the same transaction as 2 under
   exactly-once, after 2 is acknowledged under at-least-once;
4. commit the transaction (exactly-once) / await acknowledgement (at-least-once);
5. only then apply the overlay to the cache (:meth:`PartitionState.apply`);
6. only then let Faust ack the input records (``take_events`` acks after our code returns), so
   Faust never commits an input offset whose output is not committed.

A crash anywhere before 4 leaves neither the cache nor Kafka with the entry: the input is
replayed and decided again. A crash after 4 leaves the entry in the changelog: the replay meets
it and is dropped, and its output is already committed. So a replay can never hide a unit whose
output was lost, and under exactly-once it can never emit an event twice. On (re)assignment the
cache is rebuilt from the changelog (``read_committed``) after the partition's transactional
producer has fenced any previous owner; the local data directory holds no dedup state at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import orjson

from streams.text.dedup import BUCKET_MAX, Seen, find_duplicate, prune
from streams.text.units import Unit

__all__ = ["Decision", "PartitionState", "decode_bucket", "encode_bucket"]


def encode_bucket(bucket: Sequence[Seen]) -> bytes:
    """Changelog value: the bucket's entries (``Seen.to_json``), newest state of the key."""
    return orjson.dumps([s.to_json() for s in bucket])


def decode_bucket(data: bytes | None) -> list[Seen]:
    """Inverse of :func:`encode_bucket`; a tombstone (None) is an empty bucket."""
    if not data:
        return []
    return [Seen.from_json(e) for e in orjson.loads(data)]


@dataclass
class Decision:
    """What one batch of one partition does: units to pass on, buckets to write, drops."""

    kept: list[Unit] = field(default_factory=list)
    writes: dict[str, list[Seen]] = field(default_factory=dict)
    dropped: int = 0


class PartitionState:
    """The committed buckets (stage key -> recently first-seen units) of one stage partition.

    Pure bookkeeping, no I/O: the agent restores it from the changelog, asks it to
    :meth:`decide` a batch, commits, then calls :meth:`apply`. Lookups follow exactly the steps
    of :class:`streams.text.dedup.Deduplicator` (the offline ``process`` command), so both make
    the same decisions for the same order of units.
    """

    def __init__(self, stage: int, window_s: float, max_len: int = BUCKET_MAX) -> None:
        self.stage = stage
        self.window_s = window_s
        self.max_len = max_len
        self.buckets: dict[str, list[Seen]] = {}
        self.max_ts = 0.0
        self._since_sweep = 0
        self._entries = 0

    def __len__(self) -> int:
        """Number of entries held (the state-size metric, read after every batch).

        Kept as a running count: summing the buckets cost time in proportion to the state, which
        over a day's window holds hundreds of thousands of entries per partition.
        """
        return self._entries

    def _put(self, key: str, bucket: list[Seen]) -> None:
        old = self.buckets.get(key)
        self._entries += len(bucket) - (len(old) if old is not None else 0)
        if bucket:
            self.buckets[key] = bucket
        elif old is not None:
            del self.buckets[key]

    def restore(self, key: str, value: bytes | None) -> None:
        """Apply one changelog record (replayed in offset order; the last one per key wins)."""
        bucket = decode_bucket(value)
        self._put(key, bucket)
        if bucket:
            self.max_ts = max(self.max_ts, max(s.ts for s in bucket))

    def decide(self, units: Iterable[Unit]) -> Decision:
        """Drop duplicates of committed entries and of earlier units of the same batch."""
        out = Decision()
        stage = self.stage
        for unit in units:
            key = unit.sig.keys[stage]
            current = out.writes.get(key)
            if current is None:
                current = self.buckets.get(key, [])
            bucket = prune(current, unit.ts, self.window_s, self.max_len)
            if find_duplicate(unit.sig, bucket, unit.ts, self.window_s) is not None:
                out.dropped += 1
                continue
            bucket.append(Seen(unit.event_id, unit.sig, unit.ts))
            out.writes[key] = prune(bucket, unit.ts, self.window_s, self.max_len)
            out.kept.append(unit)
        return out

    def apply(self, decision: Decision) -> None:
        """Make a committed batch's entries visible (call only after the commit succeeded)."""
        for key, bucket in decision.writes.items():
            self._put(key, bucket)
            if bucket:
                self.max_ts = max(self.max_ts, bucket[-1].ts)
        self._since_sweep += len(decision.writes)
        # A sweep visits every key: run it after a number of writes that grows with the state,
        # so its cost per write stays constant (at most about two keys visited per write).
        if self._since_sweep >= max(5_000, len(self.buckets) // 2):
            self.sweep()

    def sweep(self) -> int:
        """Forget keys whose entries all left the window (bounded memory); returns how many.

        Only the cache shrinks: the changelog forgets them by retention and compaction, and an
        expired entry restored later is ignored by every lookup anyway.
        """
        self._since_sweep = 0
        now, window = self.max_ts, self.window_s
        dead = [k for k, b in self.buckets.items() if all(abs(now - s.ts) >= window for s in b)]
        for k in dead:
            self._entries -= len(self.buckets.pop(k))
        return len(dead)
