"""Evaluate near-duplicate detection: ``python -m bench.eval_dedup [--json PATH] [--synthetic]``.

Dev set: ``$NEWS_SHARED_DIR/eval-dev/dedup.jsonl`` (default ``<repo>/../shared``), read in place.
The :class:`~streams.text.dedup.Deduplicator` runs over the items in ``published`` order, each
duplicate is linked to the entry it matched, and the connected components are scored against the
gold clusters with pairwise precision/recall/F1. Also printed: key-only pair recall per stage (the
ceiling the partitioning allows), the score distributions of gold-positive and gold-negative pairs,
and the threshold sweep used to choose ``JACCARD_MIN`` / ``CONTAIN_MIN``.

``--synthetic`` adds a check that does not depend on the dev texts: paragraphs of the news-excerpts
corpus are edited with the edit types the dev README lists (quote style, a word dropped/changed,
a number changed, truncation), and we measure key survival per stage, is_duplicate recall, false
positives among different paragraphs sharing a key, and bucket sizes (hot keys).
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from bench.corpus import write_results
from streams.text import fingerprint as fp
from streams.text.dedup import Deduplicator
from streams.text.fingerprint import Signature, is_duplicate, signature

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("NEWS_SHARED_DIR", REPO.parent / "shared"))


def load_rows(path: Path | None = None) -> list[dict[str, Any]]:
    path = path or shared_dir() / "eval-dev" / "dedup.jsonl"
    with open(path, "rb") as fh:
        return [orjson.loads(line) for line in fh if line.strip()]


def _ts(published: str) -> float:
    return datetime.fromisoformat(published.replace("Z", "+00:00")).timestamp()


def pairs(groups: Iterable[Sequence[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for g in groups:
        out.update(itertools.combinations(sorted(g), 2))
    return out


def prf(pred: set[tuple[str, str]], gold: set[tuple[str, str]]) -> dict[str, float]:
    tp = len(pred & gold)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(gold) if gold else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "pred_pairs": len(pred),
        "gold_pairs": len(gold),
    }


def run_dedup(rows: Sequence[dict[str, Any]], window_s: float = 86400.0) -> dict[str, str]:
    """Run the Deduplicator in published order; return item id -> id of its first-seen root."""
    order = sorted(rows, key=lambda r: (r["published"], r["id"]))
    dd = Deduplicator(window_s=window_s)
    root: dict[str, str] = {}
    for r in order:
        hit = dd.check(signature(r["text"]), r["id"], _ts(r["published"]))
        root[r["id"]] = r["id"] if hit is None else root.get(hit.event_id, hit.event_id)
    return root


def evaluate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pairwise P/R/F1 of the Deduplicator's links against gold clusters, plus diagnostics."""
    t0 = time.perf_counter()
    root = run_dedup(rows)
    elapsed = time.perf_counter() - t0
    pred_groups: dict[str, list[str]] = defaultdict(list)
    for item, first in root.items():
        pred_groups[first].append(item)
    gold_groups: dict[Any, list[str]] = defaultdict(list)
    for row in rows:
        gold_groups[row["cluster"]].append(row["id"])
    gold = pairs(gold_groups.values())
    result: dict[str, Any] = {"items": len(rows), "clusters": len(gold_groups)}
    result["dedup"] = prf(pairs(pred_groups.values()), gold)
    sigs = {r["id"]: signature(r["text"]) for r in rows}
    result["key_recall"] = key_recall(sigs, gold)
    result["pair_recall_is_duplicate"] = round(
        sum(is_duplicate(sigs[a], sigs[b]) for a, b in gold) / max(1, len(gold)), 4
    )
    result["errors"] = _errors(rows, root, gold)
    result["seconds"] = round(elapsed, 4)
    return result


def key_recall(sigs: dict[str, Signature], gold: set[tuple[str, str]]) -> dict[str, float]:
    out = {}
    for s in range(fp.STAGES):
        out[f"stage{s}"] = round(
            sum(sigs[a].keys[s] == sigs[b].keys[s] for a, b in gold) / max(1, len(gold)), 4
        )
    out["any"] = round(
        sum(any(x == y for x, y in zip(sigs[a].keys, sigs[b].keys, strict=True)) for a, b in gold)
        / max(1, len(gold)),
        4,
    )
    return out


def _errors(
    rows: Sequence[dict[str, Any]], root: dict[str, str], gold: set[tuple[str, str]]
) -> list[dict[str, Any]]:
    ids = sorted(root)
    errs = []
    for a, b in itertools.combinations(ids, 2):
        same_pred = root[a] == root[b]
        if same_pred != ((a, b) in gold):
            errs.append({"pair": [a, b], "kind": "fp" if same_pred else "fn"})
    return errs[:50]


def pair_scores(rows: Sequence[dict[str, Any]]) -> dict[str, list[float]]:
    """Jaccard (both complete) / containment (one truncated) of every gold-pos and gold-neg pair."""
    sigs = [(r["cluster"], signature(r["text"])) for r in rows]
    out: dict[str, list[float]] = defaultdict(list)
    for (ca, a), (cb, b) in itertools.combinations(sigs, 2):
        label = "pos" if ca == cb else "neg"
        if a.exact == b.exact:
            out[f"{label}_exact"].append(1.0)
        elif a.truncated or b.truncated:
            short, long = (
                (a, b) if a.truncated and (not b.truncated or a.ntokens <= b.ntokens) else (b, a)
            )
            out[f"{label}_contain"].append(fp.containment(short.prefix, long.prefix))
        else:
            out[f"{label}_jaccard"].append(fp.jaccard(a.sketch, b.sketch))
    return out


@contextmanager
def _thresholds(jaccard_min: float, contain_min: float) -> Iterator[None]:
    old = fp.JACCARD_MIN, fp.CONTAIN_MIN
    fp.JACCARD_MIN, fp.CONTAIN_MIN = jaccard_min, contain_min
    try:
        yield
    finally:
        fp.JACCARD_MIN, fp.CONTAIN_MIN = old


def sweep(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Dedup F1 over a grid of (JACCARD_MIN, CONTAIN_MIN)."""
    out = []
    for j in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        for c in (0.6, 0.7, 0.8, 0.9, 1.0):
            with _thresholds(j, c):
                res = evaluate(rows)["dedup"]
            out.append({"jaccard_min": j, "contain_min": c, **res})
    return out


# --- synthetic edits on the news-excerpts corpus ------------------------------------------------


def corpus_paragraphs(min_words: int = 8) -> list[str]:
    path = shared_dir() / "corpora" / "news-excerpts" / "excerpts.jsonl"
    paras: list[str] = []
    seen: set[str] = set()
    with open(path, "rb") as fh:
        for line in fh:
            for p in orjson.loads(line)["text"].split("\n"):
                p = p.strip()
                if len(p.split()) >= min_words and p not in seen:
                    seen.add(p)
                    paras.append(p)
    return paras


def _edit(text: str, kind: str, rng: random.Random) -> str:
    words = text.split()
    if kind == "quotes":
        return text.replace('"', "«", 1).replace('"', "»", 1).replace("'", "’").replace("  ", " ")
    if kind == "drop":
        del words[rng.randrange(len(words))]
    elif kind == "drop_early":
        del words[rng.randrange(min(6, len(words)))]
    elif kind == "change":
        words[rng.randrange(len(words))] = "замінено"
    elif kind == "number":
        return (
            "".join(str((int(c) + 1) % 10) if c.isdigit() else c for c in text)
            if any(c.isdigit() for c in text)
            else text + " 2025"
        )
    elif kind == "truncate8":
        return " ".join(words[:8]) + "…"
    elif kind == "truncate":
        cut = rng.randrange(8, max(9, len(words)))
        return " ".join(words[:cut]) + "…"
    return " ".join(words)


EDITS = ("quotes", "number", "drop", "drop_early", "change", "truncate8", "truncate")


def threshold_curve(
    paras: Sequence[str], sigs: Sequence[Signature], rng: random.Random
) -> dict[str, dict[str, float]]:
    """Share of pairs accepted by Jaccard (and length ratio) thresholds, per edit type.

    Positives: one or two word edits of a corpus paragraph. Negative: a paragraph cut to 1/3-3/4 of
    its words WITHOUT an ellipsis (a headline/short text that starts like a longer text).
    """
    groups: dict[str, list[tuple[Signature, Signature]]] = {}
    for kind in ("drop", "change"):
        groups[kind] = [
            (s, signature(_edit(p, kind, rng))) for p, s in zip(paras, sigs, strict=True)
        ]
    groups["drop+change"] = [
        (s, signature(_edit(_edit(p, "drop", rng), "change", rng)))
        for p, s in zip(paras, sigs, strict=True)
    ]
    neg = []
    for p, s in zip(paras, sigs, strict=True):
        w = p.split()
        if len(w) >= 12:
            neg.append((signature(" ".join(w[: rng.randrange(len(w) // 3, len(w) * 3 // 4)])), s))
    groups["NEG prefix-extension"] = neg
    out: dict[str, dict[str, float]] = {}
    for name, pairs in groups.items():
        js = [
            (
                fp.jaccard(a.sketch, b.sketch),
                min(a.ntokens, b.ntokens) / max(1, a.ntokens, b.ntokens),
            )
            for a, b in pairs
        ]
        row = {f"J>={t}": sum(j >= t for j, _ in js) / len(js) for t in (0.4, 0.5, 0.6, 0.7, 0.8)}
        for r in (0.6, 0.7, 0.8):
            row[f"J>=0.5,len>={r}"] = sum(j >= 0.5 and q >= r for j, q in js) / len(js)
        out[name] = {k: round(v, 3) for k, v in row.items()}
    return out


def synthetic(seed: int = 7) -> dict[str, Any]:
    """Key survival and is_duplicate recall per edit type; key-sharing false dups; bucket sizes."""
    rng = random.Random(seed)
    paras = corpus_paragraphs()
    sigs = [signature(p) for p in paras]
    res: dict[str, Any] = {"paragraphs": len(paras), "edits": {}}
    for kind in EDITS:
        n = keys_any = dup = 0
        per_stage = [0] * fp.STAGES
        for p, s in zip(paras, sigs, strict=True):
            e = signature(_edit(p, kind, rng))
            n += 1
            same = [x == y for x, y in zip(s.keys, e.keys, strict=True)]
            for i, v in enumerate(same):
                per_stage[i] += v
            keys_any += any(same)
            dup += is_duplicate(e, s)
        res["edits"][kind] = {
            **{f"key{i}": round(v / n, 3) for i, v in enumerate(per_stage)},
            "key_any": round(keys_any / n, 3),
            "is_duplicate": round(dup / n, 3),
        }
    # Different paragraphs that share a stage key: bucket sizes and how many are called duplicates.
    for stage in range(fp.STAGES):
        buckets: dict[str, list[int]] = defaultdict(list)
        for i, sg in enumerate(sigs):
            buckets[sg.keys[stage]].append(i)
        sizes = Counter(len(v) for v in buckets.values())
        fps = []
        for members in buckets.values():
            for a, b in itertools.combinations(members, 2):
                if is_duplicate(sigs[a], sigs[b]) and paras[a] != paras[b]:
                    fps.append((paras[a][:80], paras[b][:80]))
        res[f"stage{stage}_buckets"] = {
            "keys": len(buckets),
            "max_bucket": max(len(v) for v in buckets.values()),
            "size_hist": {str(k): v for k, v in sorted(sizes.items())},
            "false_dups_among_key_sharers": len(fps),
            "examples": fps[:5],
        }
    res["thresholds"] = threshold_curve(paras, sigs, rng)
    # Negatives: all pairs of different paragraphs among a random sample, score tail.
    sample = rng.sample(range(len(sigs)), min(1500, len(sigs)))
    jac = sorted(
        (fp.jaccard(sigs[a].sketch, sigs[b].sketch) for a, b in itertools.combinations(sample, 2)),
        reverse=True,
    )
    res["neg_jaccard_top"] = [round(x, 3) for x in jac[:10]]
    res["neg_pairs"] = len(jac)
    return res


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.eval_dedup", description=__doc__)
    ap.add_argument("--json", type=Path, help="write the results as JSON here")
    ap.add_argument("--synthetic", action="store_true", help="also run the corpus edit check")
    ap.add_argument("--no-sweep", action="store_true")
    args = ap.parse_args(argv)
    path = shared_dir() / "eval-dev" / "dedup.jsonl"
    if not path.exists():
        print(f"dev set not found at {path} (set NEWS_SHARED_DIR)", file=sys.stderr)
        return 2
    rows = load_rows(path)
    res = evaluate(rows)
    d = res["dedup"]
    print(
        f"dedup on {res['items']} items / {res['clusters']} clusters: "
        f"P={d['precision']:.3f} R={d['recall']:.3f} F1={d['f1']:.3f} "
        f"(tp={d['tp']} pred={d['pred_pairs']} gold={d['gold_pairs']})"
    )
    print(
        f"key-only pair recall: {res['key_recall']}; "
        f"is_duplicate on gold pairs: {res['pair_recall_is_duplicate']}"
    )
    scores = pair_scores(rows)
    res["pair_scores"] = {
        k: {"n": len(v), "min": round(min(v), 3), "max": round(max(v), 3)}
        for k, v in scores.items()
    }
    for k, v in sorted(res["pair_scores"].items()):
        print(f"  {k:14s} {v}")
    if not args.no_sweep:
        res["sweep"] = sweep(rows)
        print("sweep (jaccard_min, contain_min -> P/R/F1):")
        for s in res["sweep"]:
            print(
                f"  J>={s['jaccard_min']:.1f} C>={s['contain_min']:.1f}: "
                f"P={s['precision']:.3f} R={s['recall']:.3f} F1={s['f1']:.3f}"
            )
    if args.synthetic:
        res["synthetic"] = syn = synthetic()
        print(f"synthetic edits on {syn['paragraphs']} corpus paragraphs:")
        for kind, v in syn["edits"].items():
            print(f"  {kind:11s} {v}")
        for s in range(fp.STAGES):
            print(f"  stage{s} buckets: {syn[f'stage{s}_buckets']}")
        print("  acceptance by threshold (positives: edited copies; NEG: cut without ellipsis):")
        for name, row in syn["thresholds"].items():
            print(f"    {name:21s} {row}")
        n_neg, top = syn["neg_pairs"], syn["neg_jaccard_top"]
        print(f"  top Jaccard among {n_neg} random different pairs: {top}")
    if res["errors"]:
        print(f"errors: {res['errors'][:10]}")
    if args.json:
        write_results(args.json, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
