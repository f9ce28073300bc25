"""Pure windowed deduplication: the logic of the Faust dedup stages, without Kafka.

The stream runs ``STAGES`` sequential stages. Stage ``s`` repartitions units by ``sig.keys[s]``;
the partition's windowed table maps that key to a *bucket*, a short list of recently first-seen
units (:class:`Seen`). A unit that duplicates a bucket entry is dropped (linked to that entry),
otherwise it is appended to the bucket and forwarded to the next stage; a unit that survives every
stage is new. The Faust agent calls :func:`find_duplicate` and :func:`prune` on its table values;
:class:`Deduplicator` replays exactly the same steps in memory for the offline CLI and evaluation,
so both paths make the same decisions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from streams.text.fingerprint import STAGES, Signature, is_duplicate

__all__ = ["BUCKET_MAX", "Deduplicator", "Seen", "find_duplicate", "prune"]

BUCKET_MAX = 64


@dataclass(frozen=True, slots=True)
class Seen:
    """A first-seen unit as stored in a bucket; ``ts`` is event time (unix seconds)."""

    event_id: str
    sig: Signature
    ts: float

    def to_json(self) -> list[Any]:
        return [self.event_id, self.sig.to_json(), self.ts]

    @classmethod
    def from_json(cls, data: Any) -> Seen:
        event_id, sig, ts = data
        return cls(str(event_id), Signature.from_json(sig), float(ts))


def _live(entry: Seen, now: float, window_s: float) -> bool:
    # abs(): events arrive out of order, an entry from the "future" within the window still counts.
    return abs(now - entry.ts) < window_s


def find_duplicate(
    sig: Signature, bucket: Sequence[Seen], now: float, window_s: float
) -> Seen | None:
    """The earliest live entry of *bucket* that *sig* duplicates, or None.

    Earliest by event time, so a late-arriving copy is still linked to the first publication.
    """
    best: Seen | None = None
    for entry in bucket:
        if not _live(entry, now, window_s):
            continue
        if (best is None or entry.ts < best.ts) and is_duplicate(sig, entry.sig):
            best = entry
    return best


def prune(
    bucket: Sequence[Seen], now: float, window_s: float, max_len: int = BUCKET_MAX
) -> list[Seen]:
    """Drop expired entries and keep at most *max_len* newest, so a hot key stays bounded.

    Order of the surviving entries is preserved (table values stay stable across rewrites).
    """
    live = [e for e in bucket if _live(e, now, window_s)]
    if len(live) <= max_len:
        return live
    keep = sorted(range(len(live)), key=lambda i: live[i].ts, reverse=True)[:max_len]
    return [live[i] for i in sorted(keep)]


class Deduplicator:
    """In-memory replay of the staged stream dedup (one dict of buckets per stage)."""

    def __init__(self, window_s: float = 86400.0, max_len: int = BUCKET_MAX) -> None:
        self.window_s = window_s
        self.max_len = max_len
        self._tables: list[dict[str, list[Seen]]] = [{} for _ in range(STAGES)]
        self._checks = 0

    def check(self, sig: Signature, event_id: str, ts: float) -> Seen | None:
        """Return the first-seen entry *sig* duplicates; None means new (and it is recorded).

        Like the stream, a unit dropped at stage ``s`` is never added to later stages' buckets,
        while a unit that passes stage ``s`` is already recorded there.
        """
        for stage, table in enumerate(self._tables):
            key = sig.keys[stage]
            bucket = prune(table.get(key, ()), ts, self.window_s, self.max_len)
            dup = find_duplicate(sig, bucket, ts, self.window_s)
            if dup is not None:
                table[key] = bucket
                return dup
            bucket.append(Seen(event_id, sig, ts))
            table[key] = prune(bucket, ts, self.window_s, self.max_len)
        self._checks += 1
        if self._checks % 10_000 == 0:
            self._sweep(ts)
        return None

    def _sweep(self, now: float) -> None:
        """Forget keys whose buckets expired (the windowed table does this in the stream)."""
        for table in self._tables:
            for key in [k for k, b in table.items() if not prune(b, now, self.window_s)]:
                del table[key]

    def __len__(self) -> int:
        return sum(len(b) for b in self._tables[0].values())
