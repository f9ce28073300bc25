"""Micro-benchmark of ``normalize`` and ``signature`` on the seed: µs per teaser / 3 KB lead / item.

    python -m bench.fingerprint_speed [--repeat 7] [--cold]

Inputs come from the seed (``$NEWS_SHARED_DIR/seeds/*.txt``, read in place): the *teaser* is the
seed paragraph closest to 274 characters, the *lead* the seed's body paragraphs joined until about
3 KB, the *seed item* every non-empty paragraph of the seed (one signature each, ~21 units).
Figures are the best of ``--repeat`` timing runs (one core, warm token-hash cache unless
``--cold``); the whole-text memo of ``signature`` is emptied before every call except in the last
row, which shows the steady state of a stream where teasers repeat.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

from bench.corpus import SharedMissing, seed_text
from streams.text import fingerprint as fp
from streams.text.normalize import normalize


def best_us(fn: Callable[[], object], repeat: int, budget_s: float = 0.2) -> float:
    """Best mean µs per call over *repeat* runs, each run about *budget_s* long."""
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.02:
        fn()
        n += 1
    loops = max(1, int(n * budget_s / 0.02 / 10))
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        best = min(best, (time.perf_counter() - start) / loops)
    return best * 1e6


def inputs(seed: str) -> tuple[str, str, list[str]]:
    paras = [p.strip() for p in seed.split("\n") if p.strip()]
    teaser = min(paras, key=lambda p: abs(len(p) - 274))
    lead = ""
    for p in paras[1:]:
        if len(lead) >= 3000:
            break
        lead = f"{lead}\n\n{p}" if lead else p
    return teaser, lead[:3200], paras


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--cold", action="store_true", help="clear the token-hash cache per call")
    args = parser.parse_args(argv)
    try:
        seed = seed_text()
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    teaser, lead, paras = inputs(seed)
    caches = [
        c for n in ("_hash_cache", "_hi", "_lo") if isinstance(c := getattr(fp, n, None), dict)
    ]
    memo = getattr(fp, "_memo", {})  # whole-text memo: emptied so the rows time the computation

    def clear() -> None:
        for c in caches:
            c.clear()

    def sig(text: str) -> Callable[[], object]:
        def run() -> object:
            memo.clear()
            if args.cold:
                clear()
            return fp.signature(text)

        return run

    def item(memoised: bool = False) -> Callable[[], None]:
        def run() -> None:
            if not memoised:
                memo.clear()
            if args.cold:
                clear()
            for p in paras:
                if not memoised:
                    memo.clear()
                fp.signature(p)

        return run

    rows = [
        (f"normalize teaser ({len(teaser)} chars)", lambda: normalize(teaser)),
        (f"normalize lead ({len(lead)} chars)", lambda: normalize(lead)),
        (f"signature teaser ({len(teaser)} chars)", sig(teaser)),
        (f"signature lead ({len(lead)} chars)", sig(lead)),
        (f"signature seed item ({len(paras)} paragraphs, {len(seed)} chars)", item()),
        ("  same item again: memo hits for its paragraphs <= 600 chars", item(True)),
    ]
    for name, fn in rows:
        print(f"{name:<58} {best_us(fn, args.repeat):9.1f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
