"""Text-core speed on one core: split + fingerprint + tag per seed-sized item (+ language).

Every unit is fingerprinted and tagged here (the stream tags only first-seen units, so this is
the worst case). The same HTML items also go through ``trafilatura.extract`` in the same run, so
the ratio is measured, not quoted. Results: bench/results/core_speed.json.

    python -m bench.core_speed [--seconds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import ROOT, SharedMissing, raw_items, seed_text, split_rows, write_results
from streams.text.fingerprint import signature
from streams.text.language import detect_language
from streams.text.split import split, split_html
from streams.text.tag import tag

RESULTS = ROOT / "bench" / "results" / "core_speed.json"


def core(content: str, is_html: bool, *, language: bool = False) -> int:
    """Split + fingerprint + tag (the issue's measure), tagging every unit: the worst case, as
    the stream tags only first-seen units. ``language`` adds detection per unit. Returns units."""
    result = split_html(content) if is_html else split(content)
    units = ["\n\n".join(result.lead)] if result.lead else []
    units += [t.text for t in result.teasers]
    for text in units:
        signature(text)
        tag(text)
        if language:
            detect_language(text)
    return len(units)


def rate(fn: Callable[[Any], object], inputs: list[Any], seconds: float) -> float:
    """Items per second over repeated passes for at least ``seconds`` (after one warm pass)."""
    for x in inputs:
        fn(x)
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for x in inputs:
            fn(x)
        done += len(inputs)
    return done / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    try:
        seed = seed_text()
        texts = [it["content"] for it in raw_items(200)]
        htmls = [r["html"] for r in split_rows() if "html" in r]
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    tag("warm up")
    out: dict[str, Any] = {}
    out["seed_chars"] = len(seed)
    out["seed_items_per_s"] = rate(lambda t: core(t, False), [seed], args.seconds)
    # Cold: every paragraph made unique, so no per-paragraph cache can help (the worst case).
    cold = [
        "\n".join(f"{line} [{i}]" if line.strip() else line for line in seed.split("\n"))
        for i in range(1500)
    ]
    out["seed_cold_items_per_s"] = rate(lambda t: core(t, False), cold, args.seconds)
    out["seed_like_mean_chars"] = statistics.mean(map(len, texts))
    out["seed_like_items_per_s"] = rate(lambda t: core(t, False), texts, args.seconds)
    out["seed_like_with_language_items_per_s"] = rate(
        lambda t: core(t, False, language=True), texts, args.seconds
    )
    out["html_items"] = len(htmls)
    out["html_items_per_s"] = rate(lambda h: core(h, True), htmls, args.seconds)
    out["split_only_html_items_per_s"] = rate(split_html, htmls, args.seconds)
    try:
        import trafilatura

        out["trafilatura_html_items_per_s"] = rate(
            lambda h: trafilatura.extract(h), htmls, args.seconds
        )
        out["ratio_core_to_trafilatura"] = (
            out["html_items_per_s"] / out["trafilatura_html_items_per_s"]
        )
    except ImportError:
        out["trafilatura_html_items_per_s"] = None
    print(f"seed ({out['seed_chars']} chars), repeated:  {out['seed_items_per_s']:8,.0f} items/s")
    print(f"seed, every paragraph unique:  {out['seed_cold_items_per_s']:8,.0f} items/s")
    print(
        f"seed-like items ({out['seed_like_mean_chars']:.0f} chars): "
        f"{out['seed_like_items_per_s']:8,.0f} items/s"
    )
    print(
        f"  + language per unit:           "
        f"{out['seed_like_with_language_items_per_s']:8,.0f} items/s"
    )
    print(f"HTML items, full core:          {out['html_items_per_s']:8,.0f} items/s")
    if out.get("trafilatura_html_items_per_s"):
        print(
            f"HTML items, trafilatura.extract:{out['trafilatura_html_items_per_s']:8,.0f} items/s"
        )
        print(f"ratio core / trafilatura:       {out['ratio_core_to_trafilatura']:8.1f}x")
    write_results(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
