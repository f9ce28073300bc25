"""Labelled excerpts: the dev records plus the repository's own label references.

The repository keeps **references only** (``bench/labels/*.jsonl``: excerpt URL, paragraph count,
one label per paragraph, themes, optional entity tags); the texts are read in place from
``../shared/corpora/news-excerpts/excerpts.jsonl`` and joined here, so no text is ever copied
into the repository. Paragraphs are the stripped non-empty lines of an excerpt's ``text`` (the
same segmentation ``eval-dev/records.jsonl`` uses).

Label reference line::

    {"url": "...", "n": 6, "labels": "TLLLBS", "themes": ["war"], "tags": ["nato"], "by": "batch-a"}

``labels`` is one character per paragraph (T headline, L lead/body, S teaser of another story,
B boilerplate; ``../shared/eval-dev/LABELING.md``). ``tags`` may be absent (entity tags were not
labelled for that excerpt).

Some files are **checks**, not data (``CHECK_BATCHES``): blind relabellings of excerpts that are
already labelled elsewhere (``batch-d``: dev records; ``batch-e``: a sample of batch-a/b). They
exist to measure how far two labellers agree (``bench/label_agreement.py``); reading them as
records would put the same excerpt twice into fitting and scoring, so the loaders skip them.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bench.corpus import ROOT, SharedMissing, excerpts, shared_dir
from streams.text.tag import THEME_TAGS

LABELS_DIR = ROOT / "bench" / "labels"
CHECK_BATCHES = frozenset({"batch-d", "batch-e"})
"""Label files (by stem) that re-label excerpts labelled elsewhere: agreement checks only."""
THEMES = THEME_TAGS
"""The theme labels, as the taxonomy (``streams/text/taxonomy.yaml``) defines them."""


def paragraphs(text: str) -> list[str]:
    """An excerpt's paragraphs: stripped non-empty lines (as in ``records.jsonl``)."""
    return [p.strip() for p in text.split("\n") if p.strip()]


def site(url: str) -> str:
    """The site an excerpt comes from (host without ``www.``): the unit of held-out folds."""
    host = urlparse(url).netloc.lower()
    return host[4:] if host.startswith("www.") else host


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise SharedMissing(f"{path} not found (set NEWS_SHARED_DIR to the shared/ folder)")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def dev_records() -> list[dict[str, Any]]:
    """``eval-dev/records.jsonl`` with ``site`` and ``origin="dev"`` added."""
    rows = _read_jsonl(shared_dir() / "eval-dev" / "records.jsonl")
    return [{**r, "site": site(r["url"]), "origin": "dev"} for r in rows]


def label_refs(labels_dir: Path = LABELS_DIR, *, checks: bool = False) -> list[dict[str, Any]]:
    """The label reference lines of ``bench/labels/*.jsonl`` (sorted by file, then line).

    The data files by default; ``checks=True`` gives the lines of the check files
    (``CHECK_BATCHES``) instead.
    """
    out: list[dict[str, Any]] = []
    for path in sorted(labels_dir.glob("*.jsonl")):
        if (path.stem in CHECK_BATCHES) == checks:
            out.extend(_read_jsonl(path))
    return out


def own_records(labels_dir: Path = LABELS_DIR) -> list[dict[str, Any]]:
    """The repository's labels joined with the excerpt texts, shaped like dev records.

    A reference whose excerpt is missing or whose paragraph count differs is skipped with a
    message on stderr (the shared corpus changed under it), never silently misaligned.
    """
    import sys

    texts = {r["url"]: r for r in excerpts()}
    out: list[dict[str, Any]] = []
    for ref in label_refs(labels_dir):
        ex = texts.get(ref["url"])
        if ex is None:
            print(f"labelled: excerpt {ref['url']} not in the corpus; skipped", file=sys.stderr)
            continue
        paras = paragraphs(ex["text"])
        labels = list(ref["labels"])
        if len(paras) != len(labels) or ref.get("n", len(paras)) != len(paras):
            print(
                f"labelled: {ref['url']}: {len(labels)} labels, {len(paras)} paragraphs; skipped",
                file=sys.stderr,
            )
            continue
        out.append(
            {
                "rid": ref.get("rid") or hashlib.sha1(ref["url"].encode()).hexdigest()[:10],
                "url": ref["url"],
                "lang": ex.get("lang"),
                "paras": paras,
                "labels": labels,
                "tags": ref.get("tags"),
                "themes": ref.get("themes", []),
                "site": site(ref["url"]),
                "origin": ref.get("by", "own"),
            }
        )
    return out


def all_records() -> list[dict[str, Any]]:
    """Dev records followed by the repository's own labelled records (deduplicated by URL)."""
    dev = dev_records()
    seen = {r["url"] for r in dev}
    return dev + [r for r in own_records() if r["url"] not in seen]


def site_folds(records: Sequence[dict[str, Any]], k: int = 5, *, seed: int = 13) -> list[list[int]]:
    """``k`` folds of record indices with no site in two folds (leave-sites-out validation).

    Sites are shuffled with a fixed seed, then assigned greedily to the currently smallest fold
    (by record count), so folds are balanced and reproducible.
    """
    by_site: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(records):
        by_site[r["site"]].append(i)
    sites = sorted(by_site)
    random.Random(seed).shuffle(sites)
    sites.sort(key=lambda s: -len(by_site[s]))  # big sites first, then balance
    folds: list[list[int]] = [[] for _ in range(k)]
    for s in sites:
        min(folds, key=len).extend(by_site[s])
    return [sorted(f) for f in folds]


def iter_fold_splits(
    records: Sequence[dict[str, Any]], k: int = 5, *, seed: int = 13
) -> Iterator[tuple[list[int], list[int]]]:
    """(fit indices, score indices) per fold: no site on both sides."""
    folds = site_folds(records, k, seed=seed)
    for i, held in enumerate(folds):
        fit = sorted(j for f, fold in enumerate(folds) if f != i for j in fold)
        yield fit, held
