"""Theme-tag quality: the keyword tagger (taxonomy.yaml) next to the classifier (topics.py).

Usage: python -m bench.eval_topics [--json PATH] [--folds K] [--quiet] [--param NAME=VALUE ...]

Scores per theme P/R/F1 and micro/macro on the labelled excerpts (``bench.labelled``: dev records
plus ``bench/labels``; the text is title + lead), in two ways, baseline and classifier side by side:

* **leave-sites-out** (LSO): K site folds over all records; for each, the whole training
  procedure (``bench.train_topics.train``: its own inner site folds choose the thresholds) runs on
  the other folds, and the held-out fold is scored. No site is on both sides.
* **dev**: the dev records (``eval-dev/records.jsonl``) scored by a model trained on the other
  labelled records, leaving out every site that has a dev record.

The packaged model is fitted on all records; its own (in-sample) figures are not reported, since
they would say nothing about unseen text. Results: bench/results/topics.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.corpus import ROOT, SharedMissing, write_results
from bench.labelled import THEMES, all_records
from bench.train_topics import Params, _folds, examples, to_json, train
from streams.text.tag import Tagger
from streams.text.topics import TopicModel

RESULTS = ROOT / "bench" / "results" / "topics.json"


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


def score(gold: Sequence[set[str]], pred: Sequence[Iterable[str]]) -> dict[str, Any]:
    """Per-theme and micro/macro P/R/F1 of predicted theme sets against gold ones."""
    counts = {t: [0, 0, 0] for t in THEMES}
    for g, p in zip(gold, pred, strict=True):
        ps = set(p)
        for t in THEMES:
            if t in ps and t in g:
                counts[t][0] += 1
            elif t in ps:
                counts[t][1] += 1
            elif t in g:
                counts[t][2] += 1
    per = {t: _prf(*c) for t, c in counts.items()}
    tp, fp, fn = (sum(c[i] for c in counts.values()) for i in range(3))
    with_support = [per[t] for t in THEMES if per[t]["support"]]
    macro = sum(float(s["f1"]) for s in with_support) / max(1, len(with_support))
    return {"n": len(gold), "micro": _prf(tp, fp, fn), "macro_f1": macro, "per_tag": per}


def _predict(model: Any, th: Sequence[float], exs: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """What the packaged model would say: the fitted model as its JSON (rounded, pruned), read
    back by TopicModel and run through the run-time path (classify)."""
    tm = TopicModel.from_dict(to_json(model, th, {}))
    return [tm.classify(e["text"], e["kw"]) for e in exs]


def leave_sites_out(exs: Sequence[Mapping[str, Any]], p: Params, k: int) -> list[list[str]]:
    """Classifier predictions for every example, each from a model that never saw its site."""
    pred: list[list[str]] = [[] for _ in exs]
    for fit_i, held_i in _folds(exs, k):
        model, th = train([exs[i] for i in fit_i], p)
        for i, got in zip(held_i, _predict(model, th, [exs[i] for i in held_i]), strict=True):
            pred[i] = got
    return pred


def dev_holdout(exs: Sequence[Mapping[str, Any]], p: Params) -> tuple[list[int], list[list[str]]]:
    """Dev records scored by a model trained on the non-dev records of other sites."""
    dev_i = [i for i, e in enumerate(exs) if e["origin"] == "dev"]
    dev_sites = {exs[i]["site"] for i in dev_i}
    fit_exs = [e for e in exs if e["origin"] != "dev" and e["site"] not in dev_sites]
    model, th = train(fit_exs, p)
    return dev_i, _predict(model, th, [exs[i] for i in dev_i])


def _line(name: str, res: Mapping[str, Any]) -> str:
    m = res["micro"]
    return (
        f"{name:<22} micro P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f}  "
        f"macro-F1={res['macro_f1']:.3f}"
    )


def _table(base: Mapping[str, Any], clf: Mapping[str, Any]) -> None:
    print(f"  {'theme':<11} {'sup':>4}   {'keywords P/R/F1':<20} {'classifier P/R/F1':<20}")
    for t in THEMES:
        b, c = base["per_tag"][t], clf["per_tag"][t]
        if not b["support"] and not b["fp"] and not c["fp"]:
            print(f"  {t:<11} {0:4d}   (no text of this theme here, none predicted)")
            continue
        print(
            f"  {t:<11} {b['support']:4d}   {b['precision']:.2f} {b['recall']:.2f} {b['f1']:.2f}"
            f"       {c['precision']:.2f} {c['recall']:.2f} {c['f1']:.2f}"
        )


def _parse_params(items: Sequence[str]) -> Params:
    p = Params()
    kinds = {f.name: f.type for f in dataclasses.fields(Params)}
    changes: dict[str, Any] = {}
    for item in items:
        name, _, value = item.partition("=")
        kind = kinds[name]
        changes[name] = (
            (value.lower() in ("1", "true", "yes"))
            if kind in (bool, "bool")
            else (int(value) if kind in (int, "int") else float(value))
        )
    return dataclasses.replace(p, **changes)


def run(k: int = 5, p: Params | None = None, *, quiet: bool = False) -> dict[str, Any]:
    p = p or Params()
    t0 = time.perf_counter()
    exs = examples(all_records(), Tagger.from_yaml())
    gold = [e["themes"] for e in exs]
    base_all = [e["kw"] for e in exs]
    lso = leave_sites_out(exs, p, k)
    dev_i, dev_pred = dev_holdout(exs, p)
    dev_gold = [gold[i] for i in dev_i]
    out: dict[str, Any] = {
        "records": len(exs),
        "sites": len({e["site"] for e in exs}),
        "dev_records": len(dev_i),
        "theme_counts": {t: sum(t in g for g in gold) for t in THEMES},
        "no_theme": sum(not g for g in gold),
        "folds": k,
        "params": dataclasses.asdict(p),
        "lso": {"keywords": score(gold, base_all), "classifier": score(gold, lso)},
        "dev": {
            "keywords": score(dev_gold, [base_all[i] for i in dev_i]),
            "classifier": score(dev_gold, dev_pred),
        },
        "seconds": time.perf_counter() - t0,
    }
    if not quiet:
        counts = ", ".join(f"{t} {n}" for t, n in out["theme_counts"].items())
        print(
            f"{out['records']} records from {out['sites']} sites "
            f"({out['no_theme']} without a theme): {counts}"
        )
        for name in ("lso", "dev"):
            label = f"leave-sites-out k={k}" if name == "lso" else f"dev ({len(dev_i)}, held out)"
            print(f"\n{label}")
            for kind in ("keywords", "classifier"):
                print("  " + _line(kind, out[name][kind]))
            _table(out[name]["keywords"], out[name]["classifier"])
    return out


def summary_line(out: Mapping[str, Any]) -> str:
    """One line for bench.eval: micro-F1 keyword vs classifier, LSO and dev."""
    lso, dev = out["lso"], out["dev"]
    dev_kw, dev_clf = dev["keywords"]["micro"]["f1"], dev["classifier"]["micro"]["f1"]
    return (
        f"topic micro-F1 leave-sites-out: keywords {lso['keywords']['micro']['f1']:.3f} -> "
        f"classifier {lso['classifier']['micro']['f1']:.3f}; dev: keywords "
        f"{dev_kw:.3f} -> classifier {dev_clf:.3f} "
        f"({out['records']} records)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.eval_topics", description=__doc__)
    ap.add_argument("--json", type=Path, default=RESULTS)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--quiet", action="store_true", help="print the summary line only")
    ap.add_argument("--param", nargs="*", default=[], help="override a Params field: NAME=VALUE")
    args = ap.parse_args(argv)
    try:
        out = run(args.folds, _parse_params(args.param), quiet=args.quiet)
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    print(summary_line(out))
    write_results(args.json, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
