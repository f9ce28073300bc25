"""Text-core and splitter speed of this tree against another checkout, in the same run.

    git archive main streams bench | tar -x -C /tmp/main-tree
    python -m bench.split_compare --baseline /tmp/main-tree [--rounds 3]

Each round measures both trees, alternating, each in a fresh interpreter (its own memo state):
items per CPU second (``time.process_time``, so that time the process waits for a core shared
with other work does not count) of split + fingerprint + tag (``bench.core_speed.core``) on
the 200 seed-like items, the seed, and the seed with every paragraph made unique; and of
``split_text`` alone with the default scorer and with the hand rules. Inputs are read in
place from ``$NEWS_SHARED_DIR``. The best round per tree is written to
``bench/results/split_compare.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.corpus import ROOT, write_results

RESULTS = ROOT / "bench" / "results" / "split_compare.json"
# Runs inside each tree, the baseline included: it carries its own timing loop (CPU time, not
# bench.core_speed.rate's wall time) so that an older baseline's bench cannot change it.
_CODE = """
import json, sys, time
sys.path.insert(0, {tree!r})
import streams.text.split as m
assert m.__file__.startswith({tree!r}), m.__file__
from bench.core_speed import core
from bench.corpus import raw_items, seed_text
from streams.text.split import HandScorer, split_text
texts = [it["content"] for it in raw_items(200)]
seed = seed_text()
unique = ["\\n".join(f"{{ln}} [{{i}}]" if ln.strip() else ln for ln in seed.split("\\n"))
          for i in range(1500)]
def rate(fn, xs, secs):
    for x in xs[:50]:
        fn(x)
    done, t0 = 0, time.process_time()
    while time.process_time() - t0 < secs:
        for x in xs:
            fn(x)
        done += len(xs)
    return done / (time.process_time() - t0)
hand = HandScorer()
print(json.dumps({{
    "core_seed_like": rate(lambda t: core(t, False), texts, 2.0),
    "core_seed": rate(lambda t: core(t, False), [seed], 1.0),
    "core_seed_unique": rate(lambda t: core(t, False), unique, 1.5),
    "split_seed_like": rate(split_text, texts, 1.5),
    "split_seed_like_hand_rules": rate(lambda t: split_text(t, scorer=hand), texts, 1.0),
}}))
"""


def measure(tree: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CODE.format(tree=str(tree))],
        capture_output=True,
        text=True,
        cwd=tree,
        env=dict(os.environ),
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.split_compare", description=__doc__)
    ap.add_argument("--baseline", type=Path, required=True, help="another checkout's root")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    trees = {"baseline": args.baseline.resolve(), "this": ROOT}
    best: dict[str, dict[str, float]] = {}
    for r in range(args.rounds):
        for name, tree in trees.items():
            res = measure(tree)
            print(f"round {r} {name:<8} " + "  ".join(f"{k}={v:,.0f}" for k, v in res.items()))
            b = best.setdefault(name, {})
            for k, v in res.items():
                b[k] = max(b.get(k, 0.0), v)
    print("best of rounds (items per CPU second), this / baseline:")
    for k in best["this"]:
        t, b0 = best["this"][k], best["baseline"][k]
        print(f"  {k:<28} {t:8,.0f} / {b0:8,.0f}  (x{t / b0:.2f})")
    write_results(args.json, best)
    return 0


if __name__ == "__main__":
    sys.exit(main())
