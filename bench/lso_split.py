"""Leave-sites-out cross-validation of the splitter (hand rules vs the trained model).

Records (dev + ``bench/labels``) are put in ``k`` site folds (``bench.labelled.site_folds``: no
site in two folds). For each fold, the model is fitted on items built from the other folds'
records only, and both splitters are scored on items built from the held-out records, whose
teasers are drawn from held-out records only: nothing of a scored site - its story, its
furniture, its ledes as teasers - is seen in fitting. Counts are summed over folds, then turned
into P/R/F1 (lead, teasers, boilerplate) and title accuracy with ``bench.eval_split``'s scoring.

    python -m bench.lso_split [--folds 5] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench import eval_split
from bench.corpus import write_results
from bench.labelled import all_records, iter_fold_splits
from bench.split_items import build_items
from streams.text.split import HandScorer, Scorer, SplitResult, split

EVAL_SEED = 101  # items scored (held-out folds); the fitting items use train_split.SEED


def _splitter(sc: Scorer) -> Callable[[dict[str, Any]], SplitResult]:
    def run(row: dict[str, Any]) -> SplitResult:
        if "html" in row:
            return split(html=row["html"], scorer=sc)
        return split(row["text"], scorer=sc)

    return run


def _add(acc: dict[str, Any], res: dict[str, Any]) -> None:
    for kind, r in res.items():
        a = acc.setdefault(kind, {"items": 0, "title_ok": 0})
        a["items"] += r["items"]
        a["title_ok"] += round(r["title_acc"] * r["items"])
        for part in ("lead", "teasers", "boilerplate"):
            if part in r:
                c = a.setdefault(part, [0, 0, 0])
                c[0] += r[part]["tp"]
                c[1] += r[part]["pred"]
                c[2] += r[part]["gold"]


def _final(acc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, a in acc.items():
        out[kind] = {"items": a["items"], "title_acc": round(a["title_ok"] / a["items"], 4)}
        for part in ("lead", "teasers", "boilerplate"):
            if part in a:
                out[kind][part] = eval_split._prf(*a[part])
    return out


def lso(
    records: Sequence[dict[str, Any]],
    *,
    folds: int = 5,
    train: bool = True,
    fit_args: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Leave-sites-out figures for the hand rules and (when ``train``) the fitted model."""
    from bench import train_split

    accs: dict[str, dict[str, Any]] = {"hand": {}, "model": {}}
    per_fold: dict[str, list[dict[str, Any]]] = {"hand": [], "model": []}
    for fit_idx, held_idx in iter_fold_splits(records, folds):
        held = [records[i] for i in held_idx]
        items = build_items(held, held, seed=EVAL_SEED)
        res = eval_split.evaluate(items, _splitter(HandScorer()))
        _add(accs["hand"], res)
        per_fold["hand"].append(res["all"])
        if train:
            model = train_split.fit([records[i] for i in fit_idx], **(fit_args or {}))
            sc = train_split.scorer(model)
            res = eval_split.evaluate(items, _splitter(sc))
            _add(accs["model"], res)
            per_fold["model"].append(res["all"])
    out: dict[str, Any] = {name: _final(acc) for name, acc in accs.items() if acc}
    for name, rs in per_fold.items():
        if rs:
            # Each fold's own lead / teaser F1 (the spread shows how much a site mix moves them).
            out[name]["folds"] = [
                {"lead_f1": r["lead"]["f1"], "teasers_f1": r["teasers"]["f1"]} for r in rs
            ]
    out["records"] = len(records)
    out["sites"] = len({r["site"] for r in records})
    out["folds"] = folds
    return out


def fmt(name: str, r: dict[str, Any]) -> str:
    line = eval_split._fmt(name, r) + f" | title acc={r['title_acc']:.3f}"
    if "boilerplate" in r:
        b = r["boilerplate"]
        line += f" | boiler P={b['p']:.3f} R={b['r']:.3f}"
    return line


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.lso_split", description=__doc__)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--hand-only", action="store_true")
    ap.add_argument("--kind", help="model kind to fit (bench.train_split.KINDS; default its own)")
    ap.add_argument("--C", type=float, help="regularisation C (default bench.train_split's)")
    args = ap.parse_args(argv)
    records = all_records()
    fit_args: dict[str, Any] = {}
    if args.kind:
        fit_args["kind"] = args.kind
    if args.C is not None:
        fit_args["c"] = args.C
    res = lso(records, folds=args.folds, train=not args.hand_only, fit_args=fit_args)
    print(
        f"leave-sites-out, {res['folds']} folds: {res['records']} labelled records,"
        f" {res['sites']} sites"
    )
    for name in ("hand", "model"):
        if name in res:
            for kind in ("all", "text", "html"):
                if kind in res[name]:
                    print(fmt(f"{name}:{kind}"[:11], res[name][kind]))
            fl = [f["lead_f1"] for f in res[name]["folds"]]
            ft = [f["teasers_f1"] for f in res[name]["folds"]]
            print(
                f"  {name} per fold: lead F1 {min(fl):.3f}-{max(fl):.3f}"
                f" ({' '.join(f'{x:.3f}' for x in fl)}),"
                f" teasers F1 {min(ft):.3f}-{max(ft):.3f} ({' '.join(f'{x:.3f}' for x in ft)})"
            )
    if args.json:
        write_results(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
