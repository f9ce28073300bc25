"""Producer compression on the real payloads: ratio and CPU per MB for each codec, per topic class.

The worker's records are built the way the worker builds them (``units_from_item`` -> the exact
shortcut -> stage partition states -> ``build_event`` + ``encode``; unit lists and changelog
buckets packed as ``agents.py`` packs them), from ``bench.corpus.raw_items``. Each partition's
record stream is grouped into producer batches (what aiokafka's accumulator collects per
partition up to ``max_batch_size``) of fixed sizes and of the size the pipeline really produces
("natural": one split batch of ``--split-batch`` items), then each batch is built with aiokafka's
own ``DefaultRecordBatchBuilder`` (so codec, level and framing are the producer's: gzip level 9,
lz4 level 9 frames, zstd level 3, xerial snappy) and read back with ``DefaultRecordBatch``.

CPU is ``time.process_time`` (one process, one core), best of ``--repeat``, because the machine
this runs on is shared. The corpus reuses its stories and teaser pool, so ratios of large raw
batches (which span repeated items) are higher than real feeds would give; events are
deduplicated and are the fairer measure. Results: bench/results/compression.json.

    python -m bench.compression [--items 1500] [--split-batch 100] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson
import xxhash
from aiokafka import codec as kafka_codec
from aiokafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

from bench.corpus import ROOT, SharedMissing, raw_items, write_results
from streams import records, topics
from streams.events import HEADERS, build_event, encode
from streams.pipeline.agents import UNITS_RECORD_BYTES, _chunks
from streams.pipeline.state import PartitionState, encode_bucket
from streams.text.fingerprint import STAGES
from streams.text.units import Unit, units_from_item

RESULTS = ROOT / "bench" / "results" / "compression.json"

Headers = list[tuple[str, bytes | None]]
Rec = tuple[bytes | None, bytes, Headers]
"""key, value, headers of one Kafka record."""

CODECS: dict[str, tuple[int, Callable[[], bool]]] = {
    "none": (DefaultRecordBatch.CODEC_NONE, lambda: True),
    "gzip": (DefaultRecordBatch.CODEC_GZIP, kafka_codec.has_gzip),
    "snappy": (DefaultRecordBatch.CODEC_SNAPPY, kafka_codec.has_snappy),
    "lz4": (DefaultRecordBatch.CODEC_LZ4, kafka_codec.has_lz4),
    "zstd": (DefaultRecordBatch.CODEC_ZSTD, kafka_codec.has_zstd),
}
SIZES = {"1rec": 0, "16K": 16 * 1024, "64K": 64 * 1024, "256K": 256 * 1024, "1M": 1024 * 1024}
CLASSES = {
    "raw": "news.raw items (poller producer)",
    "units": "internal unit lists (both repartition hops)",
    "state": "dedup changelog buckets (both stages)",
    "events": "news.events, one event per record",
    "tags": "news.topic.<tag> copies of the events",
}


class Payloads:
    """Records of each topic class: per (topic, partition) streams, plus the natural batches."""

    def __init__(self) -> None:
        self.streams: dict[str, dict[tuple[str, int], list[Rec]]] = {
            c: defaultdict(list) for c in CLASSES
        }
        self.natural: dict[str, list[list[Rec]]] = {c: [] for c in CLASSES}

    def add(self, cls: str, topic: str, partition: int, batch: Sequence[Rec]) -> None:
        """One producer batch as the pipeline would send it (records of one topic partition)."""
        if batch:
            self.streams[cls][(topic, partition)].extend(batch)
            self.natural[cls].append(list(batch))


def _by_partition(units: Iterable[Unit], stage: int, n: int) -> dict[int, list[Unit]]:
    out: dict[int, list[Unit]] = defaultdict(list)
    for unit in units:
        out[xxhash.xxh3_64_intdigest(unit.sig.keys[stage].encode()) % n].append(unit)
    return out


def _unit_records(units: Sequence[Unit]) -> list[Rec]:
    """What ``Runtime.unit_records`` writes for one target partition: packed JSON lists."""
    encoded = [orjson.dumps(u.to_json()) for u in units]
    return [(None, b"[" + b",".join(c) + b"]", []) for c in _chunks(encoded, UNITS_RECORD_BYTES)]


def build_payloads(items: Sequence[Any], split_batch: int, partitions: int) -> Payloads:
    """Replay the worker's stages offline over ``items``, one split batch at a time."""
    out = Payloads()
    seen_exact: set[int] = set()  # the RecentExact shortcut within one window
    states = [
        [PartitionState(stage, 86400.0) for _ in range(partitions)] for stage in range(STAGES)
    ]
    raw_topic = topics.RAW
    for start in range(0, len(items), split_batch):
        batch = items[start : start + split_batch]
        # The poller sends each item on its own (send_and_wait): a raw batch is one record.
        for item in batch:
            key = item["item_id"].encode()
            part = xxhash.xxh3_64_intdigest(key) % partitions
            out.add("raw", raw_topic, part, [(key, records.encode(item), [])])
        forward: list[Unit] = []
        for item in batch:
            for unit in units_from_item(dict(item)):
                if unit.sig.exact not in seen_exact:
                    seen_exact.add(unit.sig.exact)
                    forward.append(unit)
        for stage in range(STAGES):
            unit_topic = topics.units_topic("news-streams", stage)
            kept: list[Unit] = []
            for part, units in sorted(_by_partition(forward, stage, partitions).items()):
                out.add("units", unit_topic, part, _unit_records(units))
                state = states[stage][part]
                decision = state.decide(units)
                state.apply(decision)
                changelog: list[Rec] = [
                    (k.encode(), encode_bucket(b), []) for k, b in decision.writes.items()
                ]
                out.add("state", f"state-s{stage}", part, changelog)
                if stage < STAGES - 1:
                    kept.extend(decision.kept)
                    continue
                events: list[Rec] = []
                tagged: dict[str, list[Rec]] = defaultdict(list)
                for unit in decision.kept:
                    event = build_event(unit)
                    rec: Rec = (event["event_id"].encode(), encode(event), list(HEADERS))
                    events.append(rec)
                    for tag_id in event["tags"]:
                        tagged[tag_id].append(rec)
                out.add("events", topics.EVENTS, part, events)
                for tag_id, recs in sorted(tagged.items()):
                    out.add("tags", topics.tag_topic(tag_id), part, recs)
            forward = kept
    return out


def group(stream: Sequence[Rec], limit: int) -> list[list[Rec]]:
    """Consecutive records of one partition in batches of at most ``limit`` value+key bytes.

    A record larger than ``limit`` is a batch of its own (``limit`` 0: every record alone, as a
    trickle of live traffic or a ``send_and_wait`` loop produces).
    """
    batches: list[list[Rec]] = []
    current: list[Rec] = []
    size = 0
    for rec in stream:
        n = len(rec[1]) + len(rec[0] or b"")
        if current and size + n > limit:
            batches.append(current)
            current, size = [], 0
        current.append(rec)
        size += n
    if current:
        batches.append(current)
    return batches


def build(batch: Sequence[Rec], codec: int) -> bytes:
    """One record batch as the producer sends it (idempotent producer state set)."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=codec,
        is_transactional=0,
        producer_id=1,
        producer_epoch=0,
        base_sequence=0,
        batch_size=2**31 - 1,
    )
    ts = 1_700_000_000_000
    for offset, (key, value, headers) in enumerate(batch):
        builder.append(offset, timestamp=ts, key=key, value=value, headers=headers)
    return bytes(builder.build())


def read(buf: bytes) -> int:
    """Parse a batch as the consumer does (decompress, iterate); returns value bytes."""
    return sum(len(r.value or b"") for r in DefaultRecordBatch(buf))


def measure(batches: Sequence[Sequence[Rec]], codec: int, repeat: int) -> dict[str, float]:
    """Wire bytes and best-of-``repeat`` CPU seconds to build and to read every batch."""
    build_s = read_s = float("inf")
    built: list[bytes] = []
    for _ in range(repeat):
        t0 = time.process_time()
        built = [build(b, codec) for b in batches]
        t1 = time.process_time()
        for buf in built:
            read(buf)
        t2 = time.process_time()
        build_s, read_s = min(build_s, t1 - t0), min(read_s, t2 - t1)
    return {"bytes": float(sum(map(len, built))), "build_s": build_s, "read_s": read_s}


def run(payloads: Payloads, codecs: list[str], repeat: int) -> dict[str, Any]:
    """Every class x batch size x codec: ratio, ms per MB (produce, consume, codec's share)."""
    results: dict[str, Any] = {}
    for cls in CLASSES:
        groupings: dict[str, list[list[Rec]]] = {"natural": payloads.natural[cls]}
        for name, limit in SIZES.items():
            groupings[name] = [
                b for stream in payloads.streams[cls].values() for b in group(stream, limit)
            ]
        results[cls] = {}
        for gname, batches in groupings.items():
            if not batches:
                continue
            base = measure(batches, CODECS["none"][0], repeat)
            mb = base["bytes"] / 1e6
            row: dict[str, Any] = {
                "batches": len(batches),
                "mean_batch_bytes": base["bytes"] / len(batches),
                "codecs": {},
            }
            for name in codecs:
                m = base if name == "none" else measure(batches, CODECS[name][0], repeat)
                row["codecs"][name] = {
                    "ratio": base["bytes"] / m["bytes"],
                    "produce_ms_per_mb": 1000 * m["build_s"] / mb,
                    "consume_ms_per_mb": 1000 * m["read_s"] / mb,
                    # What the codec adds over sending uncompressed (framing cost removed).
                    "codec_ms_per_mb": 1000
                    * (m["build_s"] + m["read_s"] - base["build_s"] - base["read_s"])
                    / mb,
                }
            results[cls][gname] = row
    return results


def per_item(payloads: Payloads, items: int) -> dict[str, float]:
    """Uncompressed value bytes per raw item of each class (what a worker moves per item)."""
    return {
        cls: sum(len(r[1]) for s in payloads.streams[cls].values() for r in s) / items
        for cls in CLASSES
    }


def worker_cost(results: dict[str, Any], bytes_per_item: dict[str, float]) -> dict[str, Any]:
    """Codec CPU per raw item in the worker at natural batch sizes, and bytes it saves.

    The worker consumes raw and unit records and produces units, state, events and tags (state
    is read only at restore, so only its produce side counts).
    """
    names = list(results["events"]["natural"]["codecs"])
    out: dict[str, Any] = {}
    for name in names:
        us = 0.0
        saved = 0.0
        for cls, b in bytes_per_item.items():
            row = results[cls]["natural"]["codecs"]
            base, m = row["none"], row[name]
            mb = b / 1e6
            produce = m["produce_ms_per_mb"] - base["produce_ms_per_mb"]
            consume = m["consume_ms_per_mb"] - base["consume_ms_per_mb"]
            if cls == "raw":
                us += 1000 * consume * mb
            elif cls == "units":
                us += 1000 * (produce + consume) * mb
            else:
                us += 1000 * produce * mb
            saved += b * (1 - 1 / m["ratio"])
        out[name] = {"codec_us_per_item": us, "bytes_saved_per_item": saved}
    return out


CPU_BUDGET_MS_PER_MB = 15.0
"""Most codec CPU (compress + decompress) a recommended codec may cost per MB of payload."""
MIN_RATIO = 1.6
"""Below this ratio a class is left uncompressed: the bytes saved do not pay for the CPU."""


def front(row: dict[str, Any]) -> list[str]:
    """Codecs no other codec beats on both ratio and CPU (the Pareto front), cheapest first."""
    c = row["codecs"]
    names = [n for n in c if n != "none"]
    out = [
        a
        for a in names
        if not any(
            c[b]["ratio"] >= c[a]["ratio"]
            and c[b]["codec_ms_per_mb"] <= c[a]["codec_ms_per_mb"]
            and (c[b]["ratio"], c[b]["codec_ms_per_mb"]) != (c[a]["ratio"], c[a]["codec_ms_per_mb"])
            for b in names
        )
    ]
    return sorted(out, key=lambda n: c[n]["codec_ms_per_mb"])


def recommend(results: dict[str, Any], grouping: str = "natural") -> dict[str, str]:
    """Per class: the front's best ratio within the CPU budget, or none below ``MIN_RATIO``."""
    out: dict[str, str] = {}
    for cls, rows in results.items():
        row = rows[grouping]
        ok = [n for n in front(row) if row["codecs"][n]["codec_ms_per_mb"] <= CPU_BUDGET_MS_PER_MB]
        best = max(ok, key=lambda n: row["codecs"][n]["ratio"], default="none")
        out[cls] = best if best != "none" and row["codecs"][best]["ratio"] >= MIN_RATIO else "none"
    return out


def print_table(results: dict[str, Any]) -> None:
    head = f"{'class':7} {'batch':8} {'mean KB':>8} {'codec':7} {'ratio':>6}"
    head += f" {'prod ms/MB':>11} {'cons ms/MB':>11} {'codec ms/MB':>12}"
    print(head)
    print("-" * len(head))
    for cls, rows in results.items():
        for gname, row in rows.items():
            for name, c in row["codecs"].items():
                print(
                    f"{cls:7} {gname:8} {row['mean_batch_bytes'] / 1024:8.1f} {name:7} "
                    f"{c['ratio']:6.2f} {c['produce_ms_per_mb']:11.2f} "
                    f"{c['consume_ms_per_mb']:11.2f} {c['codec_ms_per_mb']:12.2f}"
                )
        print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument(
        "--split-batch", type=int, default=50, help="items per split batch (natural batches)"
    )
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    try:
        items = raw_items(args.items)
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    codecs = [n for n, (_, available) in CODECS.items() if available()]
    missing = sorted(set(CODECS) - set(codecs))
    if missing:
        print(f"not measured (install cramjam): {', '.join(missing)}", file=sys.stderr)
    payloads = build_payloads(items, args.split_batch, args.partitions)
    sizes = per_item(payloads, len(items))
    print(
        f"{len(items)} items, split batches of {args.split_batch}, {args.partitions} partitions; "
        "value bytes per item: " + ", ".join(f"{c} {b:,.0f}" for c, b in sizes.items())
    )
    results = run(payloads, codecs, args.repeat)
    print_table(results)
    cost = worker_cost(results, sizes)
    print("worker, natural batches, per raw item (codec CPU over 'none'; bytes not written/read):")
    for name, c in cost.items():
        print(
            f"  {name:7} {c['codec_us_per_item']:8.1f} us/item  "
            f"{c['bytes_saved_per_item']:8,.0f} bytes/item saved"
        )
    print("Pareto front (ratio x codec ms/MB) and pick per class:")
    picks = {g: recommend(results, g) for g in ("natural", "1rec", "64K")}
    for cls, rows in results.items():
        row = rows["natural"]
        pts = ", ".join(
            f"{n} {row['codecs'][n]['ratio']:.2f}x {row['codecs'][n]['codec_ms_per_mb']:.1f}"
            for n in front(row)
        )
        print(
            f"  {cls:7} natural: {pts:60} pick {picks['natural'][cls]:6} "
            f"(1rec: {picks['1rec'][cls]}, 64K: {picks['64K'][cls]})"
        )
    print(
        f"  rule: the front's highest ratio within {CPU_BUDGET_MS_PER_MB:.0f} ms/MB of codec CPU; "
        f"none if that ratio is below {MIN_RATIO}"
    )
    out = {
        "items": len(items),
        "split_batch": args.split_batch,
        "partitions": args.partitions,
        "repeat": args.repeat,
        "cpu_clock": "time.process_time, best of repeat, one process",
        "codec_levels": "aiokafka defaults: gzip 9, lz4 9 (frame, unlinked blocks), zstd 3",
        "value_bytes_per_item": sizes,
        "classes": CLASSES,
        "results": results,
        "worker_cost_per_item": cost,
        "recommendation": picks,
        "not_measured": missing,
    }
    write_results(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
