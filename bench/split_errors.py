"""Error analysis of the splitter under leave-sites-out validation (texts go to YOUR terminal only).

For each site fold the model is fitted on the other folds (as ``bench.lso_split``), the
held-out items are split, and every unit whose predicted role differs from its gold role (the
alignment ``bench.train_split.unit_labels`` uses) is listed with its item's gold and predicted
role strings, so the structural situation of each error shows. A confusion matrix (gold ->
predicted) per fold and overall closes the output.

    python -m bench.split_errors [--folds 5] [--texts] [--fold N]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence

from bench import train_split
from bench.labelled import all_records, iter_fold_splits
from bench.lso_split import EVAL_SEED
from bench.split_items import build_items
from streams.text.split import rules


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.split_errors", description=__doc__)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--fold", type=int, default=-1, help="only this fold")
    ap.add_argument("--texts", action="store_true", help="print paragraph texts (terminal only)")
    args = ap.parse_args(argv)
    records = all_records()
    total: Counter[tuple[str, str]] = Counter()
    kinds: Counter[str] = Counter()
    for fi, (fit_idx, held_idx) in enumerate(iter_fold_splits(records, args.folds)):
        if args.fold >= 0 and fi != args.fold:
            continue
        held = [records[i] for i in held_idx]
        sc = train_split.scorer(train_split.fit([records[i] for i in fit_idx]))
        conf: Counter[tuple[str, str]] = Counter()
        for row in build_items(held, held, seed=EVAL_SEED):
            units, blocks, title = train_split.item_units(row)
            gold = train_split.unit_labels([u.text for u in units], row["gold"])
            sc.assign(units, blocks, title)
            rules._finish(units, title)  # its subheading pass gives some units their final role
            pred = [u.role for u in units]
            gs = "".join(gold)
            ps = "".join(pred)
            for i, (g, p) in enumerate(zip(gold, pred, strict=True)):
                conf[g, p] += 1
                if g == p:
                    continue
                u = units[i]
                kind = f"{g}->{p}"
                # The structural situation: where in the gold sequence the unit sits.
                lead_idx = [j for j, x in enumerate(gold) if x == "L"]
                if g == "L" and p == "S":
                    tail = all(x != "L" for x in gold[i + 1 :])
                    kind += " last-lead" if tail else " mid-lead"
                    kind += f" nlead={len(lead_idx)}"
                elif g == "S" and p == "L":
                    first = i == 0 or "S" not in gold[:i]
                    kind += " first-teaser" if first else " later-teaser"
                    kind += f" nlead={len(lead_idx)}"
                kinds[kind.split(" nlead")[0]] += 1
                fixed = u.fixed if u.fixed else "-"
                print(
                    f"f{fi} {row['id']:<22} {'html' if 'html' in row else 'text'} #{i:<2}"
                    f" {kind:<28} fixed={fixed:<12} gold={gs} pred={ps}"
                )
                if args.texts:
                    print("      ", u.text[:160])
        total.update(conf)
        print(f"fold {fi} confusion (gold->pred):", dict(sorted(conf.items())))
    print("all folds confusion (gold->pred):", dict(sorted(total.items())))
    print("error kinds:", kinds.most_common())
    return 0


if __name__ == "__main__":
    sys.exit(main())
