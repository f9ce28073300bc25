"""How a careful reader does on the held-out split items: the ceiling the splitter is chasing.

The leave-sites-out items (``bench.lso_split``: held-out records, teasers from held-out records
only, ``EVAL_SEED``) are labelled paragraph by paragraph by a reader who sees only the item text
and ``../shared/eval-dev/LABELING.md`` with a description of how items are built, never the gold
or the splitter's output. The reader's labels are scored against the gold exactly as the model's
predictions on the same items are (the model refitted per site fold, as in ``bench.lso_split``),
so the two figures compare like for like.

The repository keeps the reader's labels only (``bench/reader/*.jsonl``: item id, paragraph
count, one label per paragraph); the texts are rebuilt from ``../shared/`` in place.

    python -m bench.reader_check                 # score the stored reader labels
    python -m bench.reader_check --write DIR --n 75 --sample-seed 20261201 [--skip-seed S]
        # write a new sample of text items for a reader to DIR (outside the repository)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import train_split
from bench.corpus import ROOT, SharedMissing, write_results
from bench.label_agreement import Pair, _prf
from bench.labelled import all_records, iter_fold_splits
from bench.lso_split import EVAL_SEED
from bench.split_items import build_items
from streams.text.split import rules

READER_DIR = ROOT / "bench" / "reader"


def _held_out_items(*, predict: bool) -> list[dict[str, Any]]:
    """Every held-out text item with its units, gold unit labels and (``predict``) the labels
    of the model fitted on the other folds."""
    records = all_records()
    out: list[dict[str, Any]] = []
    for fit_idx, held_idx in iter_fold_splits(records, 5):
        held = [records[i] for i in held_idx]
        sc = train_split.scorer(train_split.fit([records[i] for i in fit_idx])) if predict else None
        for row in build_items(held, held, seed=EVAL_SEED):
            if "html" in row:
                continue  # a reader sees plain paragraphs; HTML items carry markup cues
            units, blocks, title = train_split.item_units(row)
            gold = train_split.unit_labels([u.text for u in units], row["gold"])
            item = {"id": row["id"], "texts": [u.text for u in units], "gold": "".join(gold)}
            if sc is not None:
                sc.assign(units, blocks, title)
                rules._finish(units, title)
                item["pred"] = "".join(u.role for u in units)
            out.append(item)
    return out


def score(items: Sequence[dict[str, Any]], labels: dict[str, str]) -> dict[str, Any]:
    """Reader and model against the gold on the items the reader labelled (paragraph P/R/F1 as
    ``bench.label_agreement`` scores one labelling against another)."""
    pairs: dict[str, list[Pair]] = {"reader": [], "model": [], "reader_vs_model": []}
    for it in items:
        lab = labels.get(it["id"])
        if lab is None:
            continue
        if len(lab) != len(it["gold"]):
            raise ValueError(f"{it['id']}: {len(lab)} labels for {len(it['gold'])} paragraphs")
        pairs["reader"].append(Pair(it["id"], "?", it["gold"], lab))
        pairs["model"].append(Pair(it["id"], "?", it["gold"], it["pred"]))
        pairs["reader_vs_model"].append(Pair(it["id"], "?", lab, it["pred"]))
    out: dict[str, Any] = {"items": len(pairs["reader"])}
    for who, ps in pairs.items():
        # "Story" = title or lead: a headline-like line taken for the title (or the reverse) is
        # still the story; LABELING.md allows a title only at index 0, which readers miss.
        story = [
            p._replace(ref=p.ref.replace("T", "L"), check=p.check.replace("T", "L")) for p in ps
        ]
        out[who] = {
            "lead": _prf(ps, "L"),
            "teasers": _prf(ps, "S"),
            "story": _prf(story, "L"),
            "exact_items": sum(p.ref == p.check for p in ps),
        }
    return out


def _read_labels() -> dict[str, str]:
    labels: dict[str, str] = {}
    for path in sorted(READER_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = json.loads(line)
                labels[d["id"]] = d["labels"]
    return labels


def _write_sample(out_dir: Path, n: int, seed: int, skip_seed: int | None, per: int) -> None:
    items = _held_out_items(predict=False)
    pool = items
    if skip_seed is not None:  # a later sample leaves out the items of an earlier one
        taken = {it["id"] for it in random.Random(skip_seed).sample(items, n)}
        pool = [it for it in items if it["id"] not in taken]
    sample = random.Random(seed).sample(pool, n)
    out_dir.mkdir(parents=True, exist_ok=True)
    for b in range(0, n, per):
        path = out_dir / f"batch{b // per}.txt"
        with path.open("w", encoding="utf-8") as fh:
            for it in sample[b : b + per]:
                fh.write(f"=== ITEM {it['id']} ({len(it['texts'])} paragraphs)\n")
                for i, t in enumerate(it["texts"]):
                    fh.write(f"[{i}] {t}\n")
                fh.write("\n")
        print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.reader_check", description=__doc__)
    ap.add_argument("--write", type=Path, help="write a sample for a reader to this directory")
    ap.add_argument("--n", type=int, default=75)
    ap.add_argument("--per", type=int, default=25, help="items per batch file")
    ap.add_argument("--sample-seed", type=int, default=20261201)
    ap.add_argument("--skip-seed", type=int, help="leave out the sample drawn with this seed")
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "reader_check.json")
    args = ap.parse_args(argv)
    try:
        if args.write is not None:
            _write_sample(args.write, args.n, args.sample_seed, args.skip_seed, args.per)
            return 0
        labels = _read_labels()
        if not labels:
            print(f"reader check: no reader labels in {READER_DIR}", file=sys.stderr)
            return 1
        res = score(_held_out_items(predict=True), labels)
    except SharedMissing as exc:
        print(f"reader check skipped: {exc}", file=sys.stderr)
        return 0
    print(f"reader check: {res['items']} held-out text items labelled by a reader (gold unseen)")
    for who in ("reader", "model", "reader_vs_model"):
        r = res[who]
        lead = r["lead"]
        print(
            f"  {who:16} lead F1 {lead['f1']:.3f} (P {lead['p']:.3f} / R {lead['r']:.3f}) | "
            f"story (title+lead) F1 {r['story']['f1']:.3f} | teaser F1 {r['teasers']['f1']:.3f}"
            f" | exact items {r['exact_items']}"
        )
    write_results(args.json, res)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
