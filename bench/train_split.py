"""Train the splitter's role model: ``python -m bench.train_split`` (or ``make train-split``).

Builds split items from every labelled record (``bench.labelled.all_records``: the dev records
plus ``bench/labels/*.jsonl`` joined with the shared texts in place) with
``bench.split_items`` (seeded, several variants per record), labels each unit the rules produce
by aligning it with the item's gold (title, lead, teasers, boilerplate), fits the unit weights
over ``streams.text.split.features`` together with the role transitions as a linear-chain CRF
(``bench.crf_split``, numpy/scipy, dev extra; ``--kind logreg``: the earlier multinomial
logistic regression with counted transitions), and writes ``streams/text/split/model.json``
(weights rounded, sorted keys: the same labels and seed give the same file). Inference is pure
Python (``model.py``), the same for both kinds.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.labelled import all_records
from bench.split_items import build_items
from streams.text.html import html_blocks
from streams.text.split import rules
from streams.text.split.features import KEEP_FIXED, ROLES, unit_features
from streams.text.split.model import LinearScorer

MODEL_PATH = Path(__file__).resolve().parents[1] / "streams" / "text" / "split" / "model.json"
SEED = 17
VARIANTS = 4
# Regularisation per kind (scikit-learn's C: the loss times C plus half the squared weights).
C = {"crf": 0.1, "logreg": 1.0}
TRANS_WEIGHT = 1.0
MIN_COUNT = 8
KINDS = ("crf", "logreg")
KIND = "crf"


def _words(text: str) -> frozenset[str]:
    import re

    return frozenset(re.findall(r"\w+", text.lower()))


def unit_labels(texts: Sequence[str], gold: dict[str, Any]) -> list[str]:
    """Gold role of each unit text: exact matches first (multiset), then Jaccard >= 0.6."""
    pools: dict[str, Counter[str]] = {
        "T": Counter([gold["title"]] if gold.get("title") else []),
        "L": Counter(gold.get("lead") or []),
        "S": Counter(gold.get("teasers") or []),
        "B": Counter(gold.get("boilerplate") or []),
    }
    out: list[str] = []
    for t in texts:
        lab = next((r for r in "TLSB" if pools[r][t] > 0), None)
        if lab is None:
            tw = _words(t)
            best, lab = 0.6, "B"
            for r in "TLSB":
                for g, c in pools[r].items():
                    if c <= 0:
                        continue
                    gw = _words(g)
                    u = len(tw | gw)
                    j = len(tw & gw) / u if u else 0.0
                    if j >= best:
                        best, lab = j, r
            if best == 0.6 and lab == "B" and not pools["B"]:
                lab = "B"
        if pools[lab][t] > 0:
            pools[lab][t] -= 1
        out.append(lab)
    return out


def item_units(row: dict[str, Any]) -> tuple[list[Any], Any, str | None]:
    if "html" in row:
        blocks = html_blocks(row["html"])
        texts = [b.text for b in blocks]
    else:
        blocks = None
        texts = [rules._norm(ln) for ln in row["text"].splitlines()]
        texts = [t for t in texts if t]
    units, title, title_stems = rules.prepare(texts, blocks)
    rules._assign(units, title_stems, stop_at_hard=False)  # as split_blocks does for a model
    return units, blocks, title


def dataset(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, float]], list[str], list[str]]:
    """Feature dicts, labels, and label sequences (one string per item, for transitions)."""
    xs: list[dict[str, float]] = []
    ys: list[str] = []
    seqs: list[str] = []
    for row in rows:
        units, blocks, title = item_units(row)
        labels = unit_labels([u.text for u in units], row["gold"])
        for fs, lab in zip(unit_features(units, blocks, title), labels, strict=True):
            if fs is None:
                continue
            d: dict[str, float] = {}
            for k, v in fs:
                d[k] = d.get(k, 0.0) + v
            xs.append(d)
            ys.append(lab)
        seqs.append(
            "".join(lab for u, lab in zip(units, labels, strict=True) if u.fixed not in KEEP_FIXED)
        )
    return xs, ys, seqs


def transitions(seqs: Sequence[str]) -> tuple[list[list[float]], list[float]]:
    """Log transition probabilities between roles (add-one smoothed) and start scores."""
    tc: Counter[tuple[str, str]] = Counter()
    sc: Counter[str] = Counter()
    for s in seqs:
        if s:
            sc[s[0]] += 1
        for a, b in pairwise(s):
            tc[a, b] += 1
    trans = []
    for a in ROLES:
        tot = sum(tc[a, b] for b in ROLES) + len(ROLES)
        trans.append([round(math.log((tc[a, b] + 1) / tot), 4) for b in ROLES])
    tot = sum(sc.values()) + len(ROLES)
    start = [round(math.log((sc[r] + 1) / tot), 4) for r in ROLES]
    return trans, start


def fit(
    records: Sequence[dict[str, Any]],
    *,
    seed: int = SEED,
    variants: int = VARIANTS,
    c: float | None = None,
    trans_weight: float = TRANS_WEIGHT,
    kind: str = KIND,
) -> dict[str, Any]:
    """Train on items built from ``records`` (teasers drawn from the same records only).

    ``kind``: "crf" (unit weights and transitions fitted together, ``bench.crf_split``) or
    "logreg" (a per-unit logistic regression, transitions counted apart, scaled by
    ``trans_weight``); ``c`` defaults to the kind's own (``C``)."""
    from sklearn.feature_extraction import DictVectorizer

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    cc = C[kind] if c is None else c
    rows = build_items(records, seed=seed, variants=variants)
    xs, ys, seqs = dataset(rows)
    # Words seen in fewer than MIN_COUNT units (or of one site only) are dropped: they would
    # only memorise a site.
    counts: Counter[str] = Counter(k for d in xs for k in d)
    xs = [{k: v for k, v in d.items() if counts[k] >= MIN_COUNT} for d in xs]
    vec = DictVectorizer(sparse=True, sort=True)
    x = vec.fit_transform(xs)
    meta = {
        "records": len(records),
        "sites": len({r["site"] for r in records}),
        "items": len(rows),
        "units": len(ys),
        "seed": seed,
        "variants": variants,
        "C": cc,
    }
    if kind == "crf":
        return _fit_crf(x, vec, ys, seqs, cc, meta)
    return _fit_logreg(x, vec, ys, seqs, cc, trans_weight, meta)


def _fit_logreg(
    x: Any,
    vec: Any,
    ys: Sequence[str],
    seqs: Sequence[str],
    c: float,
    trans_weight: float,
    meta: dict[str, Any],
) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=c, max_iter=3000, random_state=0)
    clf.fit(x, ys)
    classes = list(clf.classes_)
    order = [classes.index(r) if r in classes else None for r in ROLES]
    names = vec.get_feature_names_out()
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        ws = [round(float(clf.coef_[o, j]), 5) if o is not None else 0.0 for o in order]
        if any(abs(w) >= 1e-5 for w in ws):
            weights[str(name)] = ws
    bias = [round(float(clf.intercept_[o]), 5) if o is not None else -30.0 for o in order]
    trans, start = transitions(seqs)
    return {
        "kind": "multinomial-logreg+viterbi",
        "roles": list(ROLES),
        "bias": bias,
        "weights": dict(sorted(weights.items())),
        "trans": trans,
        "start": start,
        "trans_weight": trans_weight,
        "meta": meta,
    }


def _fit_crf(
    x: Any,
    vec: Any,
    ys: Sequence[str],
    seqs: Sequence[str],
    c: float,
    meta: dict[str, Any],
) -> dict[str, Any]:
    """The same unit features, fitted with the transitions as a linear-chain CRF
    (``bench.crf_split``)."""
    from bench.crf_split import fit_crf

    lengths = [len(s) for s in seqs if s]
    y = [ROLES.index(r) for r in ys]
    m = fit_crf(x.tocsr(), y, lengths, c=c)

    def r5(v: Any) -> float:
        return round(float(v), 5)

    names = vec.get_feature_names_out()
    weights: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        ws = [r5(v) for v in m["w"][j]]
        if any(abs(v) >= 1e-5 for v in ws):
            weights[str(name)] = ws
    model: dict[str, Any] = {
        "kind": "linear-chain-crf+viterbi",
        "roles": list(ROLES),
        "bias": [r5(v) for v in m["bias"]],
        "weights": dict(sorted(weights.items())),
        "trans": [[r5(v) for v in row] for row in m["trans"]],
        "start": [r5(v) for v in m["start"]],
        "trans_weight": 1.0,
        "meta": dict(meta, iterations=m["iters"]),
    }
    return model


def scorer(model: dict[str, Any]) -> LinearScorer:
    return LinearScorer(model)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.train_split", description=__doc__)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--variants", type=int, default=VARIANTS)
    ap.add_argument("--kind", choices=KINDS, default=KIND)
    ap.add_argument("--C", type=float, help="regularisation (default: the kind's own)")
    args = ap.parse_args(argv)
    records = all_records()
    model = fit(records, seed=args.seed, variants=args.variants, c=args.C, kind=args.kind)
    args.out.write_text(json.dumps(model, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    m = model["meta"]
    print(
        f"trained on {m['records']} records ({m['sites']} sites), {m['items']} items,"
        f" {m['units']} units; {len(model['weights'])} features -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
