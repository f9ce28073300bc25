"""Micro-benchmark of the lead/teaser splitter: µs per seed, per seed-like item, per HTML item.

    python -m bench.split_speed [--repeat 5]

Inputs are read in place from ``$NEWS_SHARED_DIR`` (never copied): the seed
(``seeds/*.txt``), 200 seed-like plain-text items (``bench.corpus.raw_items``) and the HTML
items of ``eval-dev/split.jsonl``. Figures are the best of ``--repeat`` runs on one core; the
HTML row is also shown without parsing (blocks parsed once, then split) to separate the two costs.
"cold" rows empty the splitter's paragraph memo before every item; the others show the steady
state of a stream, where teasers and page furniture repeat from item to item.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.corpus import SharedMissing, raw_items, seed_text, split_rows
from streams.text import split as sp
from streams.text.html import html_blocks


def best_us_per_item(fn: Callable[[Any], object], inputs: Sequence[Any], repeat: int) -> float:
    """Best mean µs per input over ``repeat`` passes (each pass at least ~0.2 s)."""
    for x in inputs:  # warm-up
        fn(x)
    t0 = time.perf_counter()
    for x in inputs:
        fn(x)
    one = max(time.perf_counter() - t0, 1e-6)
    loops = max(1, int(0.2 / one))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            for x in inputs:
                fn(x)
        best = min(best, (time.perf_counter() - start) / (loops * len(inputs)))
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        seed = seed_text()
        texts = [it["content"] for it in raw_items(200)]
        htmls = [r["html"] for r in split_rows() if "html" in r]
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    blocks = [html_blocks(h) for h in htmls]

    def split_parsed(bs: list[Any]) -> object:
        return sp._split_blocks([b.text for b in bs], bs)

    def cold(fn: Callable[[Any], object]) -> Callable[[Any], object]:
        def run(x: Any) -> object:
            sp.clear_memo()
            return fn(x)

        return run

    rows = [
        (
            f"seed ({len(seed)} chars), cold",
            best_us_per_item(cold(sp.split_text), [seed], args.repeat),
        ),
        (
            f"seed-like ({statistics.mean(map(len, texts)):.0f} chars, n={len(texts)}), cold",
            best_us_per_item(cold(sp.split_text), texts, args.repeat),
        ),
        (
            f"HTML ({statistics.mean(map(len, htmls)):.0f} chars, n={len(htmls)}), cold",
            best_us_per_item(cold(sp.split_html), htmls, args.repeat),
        ),
        (f"seed ({len(seed)} chars)", best_us_per_item(sp.split_text, [seed], args.repeat)),
        (
            f"seed-like ({statistics.mean(map(len, texts)):.0f} chars, n={len(texts)})",
            best_us_per_item(sp.split_text, texts, args.repeat),
        ),
        (
            f"HTML ({statistics.mean(map(len, htmls)):.0f} chars, n={len(htmls)})",
            best_us_per_item(sp.split_html, htmls, args.repeat),
        ),
        ("  of which html_blocks", best_us_per_item(html_blocks, htmls, args.repeat)),
        ("  of which splitting", best_us_per_item(split_parsed, blocks, args.repeat)),
    ]
    for name, us in rows:
        print(f"{name:<46} {us:9.1f} µs/item  ({1e6 / us:8,.0f} items/s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
