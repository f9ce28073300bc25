"""One command for the text core's quality: ``python -m bench.eval`` (or ``make eval``).

Runs, against ``../shared/eval-dev/`` (read in place) and the repository's own ``tests/data/``:
split precision/recall/F1 (lead and teasers, with trafilatura's scores and speed beside ours;
a careful reader's labels on held-out items beside the model's, ``bench.reader_check``),
tag micro and per-tag precision/recall/F1, dedup pairwise precision/recall/F1 (the Deduplicator
alone, and end to end through ``news-streams process --all`` as the README defines it). Prints a
summary against the bars and writes ``bench/results/eval.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench import eval_dedup, eval_pages, eval_split, eval_tags, eval_topics, reader_check
from bench.corpus import ROOT, SharedMissing, shared_dir, write_results

RESULTS = ROOT / "bench" / "results"
BARS = {
    "split lead F1": 0.97,
    "split teaser F1": 0.97,
    "split lead F1 LSO": 0.97,  # leave-sites-out (bench.lso_split)
    "split teaser F1 LSO": 0.97,
    "dedup F1": 0.95,
    "entity micro-F1": 0.93,
}


def _section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def dedup_via_process(path: Path) -> dict[str, Any]:
    """Pairwise P/R/F1 of ``news-streams process --jsonl --all`` links on the dedup gold set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows.sort(key=lambda r: (r["published"], r["id"]))
    stdin = "\n".join(
        json.dumps({"id": r["id"], "text": r["text"], "published": r["published"]}) for r in rows
    )
    proc = subprocess.run(
        [sys.executable, "-m", "streams.cli", "process", "--jsonl", "--all"],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"process failed: {proc.stderr[-2000:]}")
    owner: dict[str, str] = {}  # event id -> input id
    root: dict[str, str] = {}  # input id -> input id of its first-seen root
    for line in proc.stdout.splitlines():
        out = json.loads(line)
        item = out["item_id"]
        owner.setdefault(out["event_id"], item)
        if "duplicate_of" in out:
            first = owner.get(out["duplicate_of"], item)
            root[item] = root.get(first, first)
        else:
            root.setdefault(item, item)
    for r in rows:
        root.setdefault(r["id"], r["id"])
    gold_groups: dict[Any, list[str]] = defaultdict(list)
    for r in rows:
        gold_groups[r["cluster"]].append(r["id"])
    return eval_dedup.prf(
        eval_dedup.pairs(_groups(root).values()), eval_dedup.pairs(gold_groups.values())
    )


def _groups(root: dict[str, str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for item, first in root.items():
        groups[first].append(item)
    return groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, default=RESULTS / "eval.json")
    args = parser.parse_args(argv)
    dev = shared_dir() / "eval-dev"
    if not dev.is_dir():
        print(f"skipped: {dev} not found (set NEWS_SHARED_DIR)", file=sys.stderr)
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    try:
        _section("split (lead / teasers), trafilatura beside ours")
        eval_split.main(["--json", str(RESULTS / "eval-split.json")])
        out["split"] = json.loads((RESULTS / "eval-split.json").read_text())
        _section("split: a careful reader vs the model on the same held-out text items")
        rc_path = RESULTS / "reader_check.json"
        rc_path.unlink(missing_ok=True)
        reader_check.main(["--json", str(rc_path)])
        if rc_path.exists():
            out["reader_check"] = json.loads(rc_path.read_text())
        _section("tags (18 entity tags)")
        eval_tags.main(["--json", str(RESULTS / "eval-tags.json")])
        out["tags"] = json.loads((RESULTS / "eval-tags.json").read_text())
        _section("topic tags (10 themes): keywords vs classifier, leave-sites-out and dev")
        eval_topics.main(["--json", str(RESULTS / "topics.json")])
        out["topics"] = json.loads((RESULTS / "topics.json").read_text())
        _section("dedup (Deduplicator on signatures)")
        eval_dedup.main(["--json", str(RESULTS / "eval-dedup.json")])
        out["dedup"] = json.loads((RESULTS / "eval-dedup.json").read_text())
        _section("dedup end to end (news-streams process --all)")
        out["dedup_process"] = dedup_via_process(dev / "dedup.jsonl")
        d = out["dedup_process"]
        print(f"P={d['precision']:.3f} R={d['recall']:.3f} F1={d['f1']:.3f}")
        _section("whole pages (article shingle F1 vs trafilatura, dev / held-out halves)")
        eval_pages.main(["--json", str(RESULTS / "pages.json")])
        out["pages"] = json.loads((RESULTS / "pages.json").read_text())
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    split_all = out["split"]["dev"]["all"]
    traf = out["split"]["trafilatura_dev_html"]
    lso = out["split"].get("lso", {}).get("model", {}).get("all")
    figures = {
        "split lead F1": split_all["lead"]["f1"],
        "split teaser F1": split_all["teasers"]["f1"],
        **(
            {
                "split lead F1 LSO": lso["lead"]["f1"],
                "split teaser F1 LSO": lso["teasers"]["f1"],
            }
            if lso
            else {}
        ),
        "dedup F1": out["dedup_process"]["f1"],
        "entity micro-F1": out["tags"]["sets"]["tags.jsonl"]["micro"]["f1"],
    }
    _section("summary (dev set; LSO = leave-sites-out)")
    failed = 0
    for name, value in figures.items():
        bar = BARS[name]
        ok = value >= bar
        failed += not ok
        print(f"{name:20} {value:6.3f}   bar {bar:.2f}   {'ok' if ok else 'BELOW BAR'}")
    print(
        f"trafilatura on the HTML items: lead F1 {traf['lead']['f1']:.3f}, teasers none; "
        f"{traf['items_per_s']:.0f} items/s vs ours {traf['ours_items_per_s']:.0f} "
        f"({traf['speedup']:.1f}x)"
    )
    rc = out.get("reader_check") or {}
    if rc.get("items"):
        print(
            f"held-out text items a careful reader labelled ({rc['items']}): lead F1 model "
            f"{rc['model']['lead']['f1']:.3f}, reader {rc['reader']['lead']['f1']:.3f}"
        )
    out["summary"] = figures
    write_results(args.json, out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
