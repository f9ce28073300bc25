"""Entity-tag quality: micro and per-tag precision/recall/F1 of streams.text.tag.

Usage: python -m bench.eval_tags [--verbose] [--json PATH] [--data FILE ...]

Without --data it scores the shared dev set (``$NEWS_SHARED_DIR/eval-dev/tags.jsonl``, default
``../shared`` beside the repo) and the project's own ``tests/data/tags_gold.jsonl``. Only the 18
entity tags are scored (themes are judged by what a text is about and have no gold here).
--verbose prints each tag's false positives/negatives with the matched spans, for error analysis.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.corpus import ROOT, shared_dir, write_results
from streams.text.tag import ENTITY_TAGS, default_tagger

OWN_GOLD = ROOT / "tests" / "data" / "tags_gold.jsonl"


def dev_path() -> Path:
    return shared_dir() / "eval-dev" / "tags.jsonl"


def load_rows(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


def evaluate(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Score entity tags of rows ({"id", "text", "tags"}) -> micro, per-tag figures and errors."""
    tagger = default_tagger()
    entity = set(ENTITY_TAGS)
    counts = {t: [0, 0, 0] for t in ENTITY_TAGS}  # tp, fp, fn
    errors: dict[str, dict[str, list[str]]] = {t: {"fp": [], "fn": []} for t in ENTITY_TAGS}
    n = 0
    for row in rows:
        n += 1
        gold = {t for t in row.get("tags", []) if t in entity}
        pred = set(tagger.tag_entities(row["text"]))
        rid = str(row.get("id", n))
        for t in ENTITY_TAGS:
            if t in pred and t in gold:
                counts[t][0] += 1
            elif t in pred:
                counts[t][1] += 1
                errors[t]["fp"].append(rid)
            elif t in gold:
                counts[t][2] += 1
                errors[t]["fn"].append(rid)
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    return {
        "n": n,
        "micro": _prf(tp, fp, fn),
        "per_tag": {t: _prf(*counts[t]) for t in ENTITY_TAGS},
        "errors": errors,
    }


def _speed(texts: Sequence[str], rounds: int = 20) -> dict[str, float]:
    """tag() time per 2 KB piece of real text (short texts alone would measure call overhead)."""
    tagger = default_tagger()
    joined = "\n".join(texts)
    pieces = [joined[i : i + 2048] for i in range(0, max(1, len(joined) - 2047), 2048)]
    for p in pieces:
        tagger.tag(p)
    t0 = time.perf_counter()
    for _ in range(rounds):
        for p in pieces:
            tagger.tag(p)
    dt = (time.perf_counter() - t0) / (rounds * len(pieces))
    return {"us_per_2kb": dt * 1e6, "texts_per_second_2kb": 1 / dt, "pieces": len(pieces)}


def _print_report(name: str, res: Mapping[str, Any]) -> None:
    m = res["micro"]
    print(
        f"\n== {name}: {res['n']} texts  micro P={m['precision']:.3f} R={m['recall']:.3f} "
        f"F1={m['f1']:.3f}  (tp={m['tp']} fp={m['fp']} fn={m['fn']})"
    )
    print(f"{'tag':<12} {'P':>6} {'R':>6} {'F1':>6} {'sup':>4} {'fp':>3} {'fn':>3}")
    for t, s in res["per_tag"].items():
        if s["support"] or s["fp"]:
            print(
                f"{t:<12} {s['precision']:6.3f} {s['recall']:6.3f} {s['f1']:6.3f} "
                f"{s['support']:4d} {s['fp']:3d} {s['fn']:3d}"
            )


def _print_errors(res: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> None:
    tagger = default_tagger()
    by_id = {str(r.get("id", i + 1)): r for i, r in enumerate(rows)}
    for t, errs in res["errors"].items():
        for kind in ("fp", "fn"):
            for rid in errs[kind]:
                row = by_id[rid]
                text = row["text"]
                print(f"-- {t} {kind.upper()} {rid}: {text[:160]!r}")
                if kind == "fp":
                    for h in tagger.hits(text):
                        if h.tag == t:
                            ctx = text[max(0, h.start - 40) : h.end + 40].replace("\n", " ")
                            print(f"     {h.fate}: {h.text!r} via {h.signal!r}: …{ctx}…")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.eval_tags", description=__doc__)
    ap.add_argument("--data", nargs="*", type=Path, help="gold JSONL files (default: dev + own)")
    ap.add_argument("--verbose", "-v", action="store_true", help="print false positives/negatives")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    tagger = default_tagger()
    build = time.perf_counter() - t0

    paths = list(args.data) if args.data else [dev_path(), OWN_GOLD]
    out: dict[str, Any] = {"build_seconds": build, "patterns": tagger.n_patterns, "sets": {}}
    all_texts: list[str] = []
    for path in paths:
        if not path.exists():
            print(f"skip {path}: not found (set NEWS_SHARED_DIR for the shared dev set)")
            continue
        rows = load_rows(path)
        all_texts += [r["text"] for r in rows]
        res = evaluate(rows)
        _print_report(str(path), res)
        if args.verbose:
            _print_errors(res, rows)
        out["sets"][path.name if path != OWN_GOLD else "tags_gold.jsonl"] = res
    if not out["sets"]:
        print("no gold data found", file=sys.stderr)
        return 2
    out["speed"] = _speed(all_texts)
    print(
        f"\nautomaton: {tagger.n_patterns} patterns, built in {build:.2f} s; tag(): "
        f"{out['speed']['us_per_2kb']:.0f} µs per 2 KB text ({out['speed']['pieces']} pieces)"
    )
    if args.json:
        write_results(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
