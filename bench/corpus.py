"""Benchmark and demo inputs, read in place from ``../shared`` (never copied into the repo).

Items are built like the seed: a lead article followed by a block of teasers drawn from a pool
of other stories' ledes, so teasers repeat across items the way they do on real sites.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streams.records import RawItem, make_item_id
from streams.times import now_iso

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    """``$NEWS_SHARED_DIR`` or ``../shared`` beside the repository."""
    return Path(os.environ.get("NEWS_SHARED_DIR") or ROOT.parent / "shared")


class SharedMissing(RuntimeError):
    """The shared evaluation material is not on this machine."""


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise SharedMissing(f"{path} not found (set NEWS_SHARED_DIR to the shared/ folder)")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def seed_text() -> str:
    seeds = sorted((shared_dir() / "seeds").glob("*.txt"))
    if not seeds:
        raise SharedMissing(f"no seed in {shared_dir() / 'seeds'}")
    return seeds[0].read_text(encoding="utf-8")


def split_rows() -> list[dict[str, Any]]:
    return _read_jsonl(shared_dir() / "eval-dev" / "split.jsonl")


def excerpts() -> list[dict[str, Any]]:
    return _read_jsonl(shared_dir() / "corpora" / "news-excerpts" / "excerpts.jsonl")


def seed_like_texts(n: int, *, seed: int = 7, teasers: int = 14) -> Iterator[str]:
    """``n`` plain-text items shaped like the seed: headline, lead paragraphs, teaser block."""
    rng = random.Random(seed)
    pool = [
        [p for p in row["text"].split("\n") if len(p) > 40] for row in excerpts() if row.get("text")
    ]
    pool = [paras for paras in pool if len(paras) >= 3]
    ledes = [paras[0] for paras in pool]
    for i in range(n):
        story = pool[i % len(pool)]
        block = [rng.choice(ledes[:200]) for _ in range(teasers)]
        yield "\n".join([story[0][:120], *story[1:7], *block])


def raw_items(n: int, *, feed: str = "bench", seed: int = 7) -> list[RawItem]:
    """Seed-sized raw items with unique ids, ready for ``news.raw``."""
    fetched = now_iso()
    return [
        RawItem(
            item_id=make_item_id(feed, f"item-{seed}-{i}"),
            feed=feed,
            url=f"https://example.invalid/{i}",
            title=None,
            published=fetched,
            fetched_at=fetched,
            content=text,
            content_type="text/plain",
            guid=f"item-{seed}-{i}",
        )
        for i, text in enumerate(seed_like_texts(n, seed=seed))
    ]


def write_results(path: Path, result: Any) -> None:
    """Write a benchmark's or evaluation's figures as indented JSON (creating the folder) and
    say where: every ``bench/`` script records its results the same way."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {path}")
