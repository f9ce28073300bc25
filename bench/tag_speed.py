"""Topic-tagger speed on one core: µs per teaser-sized unit, per ~2 KB lead, per seed-like item.

Units come from ``bench.corpus.raw_items`` split with ``streams.text.split.split`` (the lead
joined by blank lines, each teaser on its own), exactly what the stream tags. Each figure is the
best of several timed passes over all units of that kind (the automaton is built before timing).

    python -m bench.tag_speed [--items 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from bench.corpus import SharedMissing, excerpts, raw_items
from streams.text.split import split
from streams.text.tag import default_tagger, tag


def units_of(n: int) -> list[list[str]]:
    """Per item: its units (lead first, then teasers), as the stream tags them."""
    out = []
    for item in raw_items(n):
        result = split(item["content"])
        units = ["\n\n".join(result.lead)] if result.lead else []
        units += [t.text for t in result.teasers]
        out.append(units)
    return out


def leads_2kb(n: int = 200) -> list[str]:
    """Lead-like ~2 KB texts: the longest excerpts (1.8-2 KB; they are capped at 2,000 chars)."""
    out = []
    for row in excerpts():
        text = "\n\n".join(p for p in (row.get("text") or "").split("\n") if p.strip())
        if len(text) >= 1800:
            out.append(text)
    return out[:n]


def best_us_per(texts: list[str], repeat: int) -> float:
    """Best-of-repeat mean µs per text over one pass through texts."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            tag(text)
        best = min(best, time.perf_counter() - started)
    return best / max(1, len(texts)) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        items = units_of(args.items)
        leads = leads_2kb()
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    default_tagger()
    all_units = [u for units in items for u in units]
    teasers = [u for u in all_units if 100 <= len(u) <= 400]
    best_us_per(all_units, 1)  # warm up
    per_unit = best_us_per(all_units, args.repeat)
    n_units = statistics.mean(map(len, items))
    rows = [
        (f"teaser-sized unit (100-400 chars, n={len(teasers)})", best_us_per(teasers, args.repeat)),
        (f"~2 KB lead (excerpt paragraphs, n={len(leads)})", best_us_per(leads, args.repeat)),
        (f"seed-like item ({n_units:.1f} units)", per_unit * n_units),
    ]
    for name, us in rows:
        print(f"{name:<48} {us:9.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
