"""Whole-page article extraction: ``python -m bench.eval_pages`` (also run by ``make eval``).

Pages: ``../shared/corpora/readability-pages/<name>/source.html.gz`` (a whole page as fetched)
with ``expected.html.gz`` (the article, as Mozilla Readability's maintainers reviewed it), read in
place. The expected text is the visible text of ``expected.html`` (``streams.text.html``'s blocks).

Score (per page, then averaged over pages): word 4-gram shingle precision / recall / F1.
Text is lower-cased and cut into tokens (runs of word characters; each CJK ideograph or kana is a
token of its own, since those scripts have no spaces); a page's shingles are the *set* of its
4-token windows (a text of 1-3 tokens is one shingle). P = |ours ∩ expected| / |ours|,
R = |ours ∩ expected| / |expected|, F1 their harmonic mean; both empty counts 1, one empty 0.
"Ours" is ``split_page``'s lead paragraphs, the text of the article as the stream publishes it
(teasers are other stories; the title is reported separately, as ``trafilatura.extract`` leaves
it out too); "ours, title + lead" adds the title line.
trafilatura is ``trafilatura.extract(html)`` with its default settings and, separately,
``favor_recall=True`` (its best setting on these pages), measured in the same run.

To keep a held-out check on pages the code was not developed on, pages are split by a fixed
rule: ``held-out`` when the first byte of sha1(name) is odd, ``dev`` otherwise. Figures are
reported for dev, held-out and all, with pages/s: pages per CPU second of this one process over
the whole set (process time, best of two passes), for ours and trafilatura alike.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import ROOT, SharedMissing, shared_dir, write_results

RESULTS = ROOT / "bench" / "results"
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]|\w+")


def pages_dir() -> Path:
    return shared_dir() / "corpora" / "readability-pages"


def half(name: str) -> str:
    """The fixed dev / held-out assignment of a page."""
    return "held-out" if hashlib.sha1(name.encode()).digest()[0] % 2 else "dev"


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = _TOKEN.findall(text.lower())
    if len(words) < n:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def prf(pred: str, gold: str) -> tuple[float, float, float]:
    p, g = shingles(pred), shingles(gold)
    if not p and not g:
        return 1.0, 1.0, 1.0
    if not p or not g:
        return 0.0, 0.0, 0.0
    inter = len(p & g)
    precision, recall = inter / len(p), inter / len(g)
    f1 = 2 * precision * recall / (precision + recall) if inter else 0.0
    return precision, recall, f1


def visible_text(html: str) -> str:
    """The expected article's text, one line per block; inline elements join without a space
    ("H<sub>ij</sub>" is "Hij"), as a reader sees it."""
    from streams.text.html import html_blocks

    return "\n".join(b.text for b in html_blocks(html))


def load_pages() -> list[tuple[str, str, str]]:
    """(name, source html, expected text) for every page, sorted by name."""
    root = pages_dir()
    if not root.is_dir():
        raise SharedMissing(f"{root} not found (set NEWS_SHARED_DIR to the shared/ folder)")
    out = []
    for d in sorted(p for p in root.iterdir() if (p / "source.html.gz").exists()):
        src = gzip.decompress((d / "source.html.gz").read_bytes()).decode("utf-8", "replace")
        exp = gzip.decompress((d / "expected.html.gz").read_bytes()).decode("utf-8", "replace")
        out.append((d.name, src, visible_text(exp)))
    return out


def ours(html: str) -> str:
    from streams.text.page import split_page

    return "\n".join(split_page(html).lead)


def ours_with_title(html: str) -> str:
    from streams.text.page import split_page

    r = split_page(html)
    return "\n".join(([r.title] if r.title else []) + r.lead)


def trafilatura_default(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html) or ""


def trafilatura_recall(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, favor_recall=True) or ""


def run(
    extract: Callable[[str], str], pages: list[tuple[str, str, str]], repeat: int = 2
) -> tuple[dict[str, tuple[float, float, float]], float]:
    """Per-page P/R/F1 and pages per CPU second (process time, best of `repeat` passes: the
    machine is shared, and wall time would measure the other processes too)."""
    extract(pages[0][1])  # warm up imports and caches outside the timing
    best = float("inf")
    outs: list[tuple[str, str, str]] = []
    for _ in range(max(1, repeat)):
        start = time.process_time()
        outs = [(name, extract(src), exp) for name, src, exp in pages]
        best = min(best, time.process_time() - start)
    per = {name: prf(out, exp) for name, out, exp in outs}
    return per, len(pages) / best if best else 0.0


def summarise(per: dict[str, tuple[float, float, float]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for part in ("dev", "held-out", "all"):
        rows = [v for k, v in per.items() if part == "all" or half(k) == part]
        n = len(rows) or 1
        out[part] = {
            "pages": len(rows),
            "precision": sum(r[0] for r in rows) / n,
            "recall": sum(r[1] for r in rows) / n,
            "f1": sum(r[2] for r in rows) / n,
        }
    return out


SYSTEMS: dict[str, Callable[[str], str]] = {
    "ours (split_page)": ours,
    "ours, title + lead": ours_with_title,
    "trafilatura.extract": trafilatura_default,
    "trafilatura favor_recall": trafilatura_recall,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=RESULTS / "pages.json")
    parser.add_argument("--only-ours", action="store_true", help="skip trafilatura (quick runs)")
    parser.add_argument("--worst", type=int, default=0, help="list our N worst dev pages")
    args = parser.parse_args(argv)
    try:
        pages = load_pages()
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        write_results(args.json, {"skipped": str(exc)})
        return 0
    result: dict[str, Any] = {"pages": len(pages), "systems": {}}
    print(f"{len(pages)} pages ({sum(half(n) == 'dev' for n, _, _ in pages)} dev)")
    print(f"{'system':26} {'dev F1':>7} {'held F1':>8} {'all P':>6} {'all R':>6} {'all F1':>7}")
    per_ours: dict[str, tuple[float, float, float]] = {}
    for name, fn in SYSTEMS.items():
        if args.only_ours and fn not in (ours, ours_with_title):
            continue
        per, rate = run(fn, pages)
        if fn is ours:
            per_ours = per
        s = summarise(per)
        per_page = {k: v[2] for k, v in per.items()}
        result["systems"][name] = {**s, "pages_per_s": rate, "per_page_f1": per_page}
        print(
            f"{name:26} {s['dev']['f1']:7.3f} {s['held-out']['f1']:8.3f} "
            f"{s['all']['precision']:6.3f} {s['all']['recall']:6.3f} {s['all']['f1']:7.3f}"
            f"   {rate:6.1f} pages/s"
        )
    if args.worst:
        dev = {k: v for k, v in per_ours.items() if half(k) == "dev"}  # never study held-out
        for name, (p, r, f) in sorted(dev.items(), key=lambda kv: kv[1][2])[: args.worst]:
            print(f"  {f:.3f} P={p:.3f} R={r:.3f} {half(name):8} {name}")
    systems = result["systems"]
    if "trafilatura.extract" in systems:
        o = systems["ours (split_page)"]
        t = systems["trafilatura.extract"]
        print(
            f"ours vs trafilatura.extract: F1 {o['all']['f1']:.3f} vs {t['all']['f1']:.3f}, "
            f"{o['pages_per_s'] / t['pages_per_s']:.1f}x the pages/s (loaded machine)"
        )
    write_results(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
