"""How far two labellers agree: the check batches against the labels they re-label.

A blind relabelling (``bench.labelled.CHECK_BATCHES``) is paired with the labels it checks, by
excerpt URL: ``batch-e`` with the batch-a/b labels, ``batch-d`` with the dev gold
(``eval-dev/records.jsonl``). For each pair of labellings it prints paragraph agreement (overall
and per language), the confusion matrix (reference label -> check label) and lead (L) and teaser
(S) precision / recall / F1 of the check scored against the reference at paragraph level. Lead F1
between two careful labellers is the ceiling any splitter score measured on these labels can show.

    python -m bench.label_agreement [--rev COMMIT] [--diff] [--json PATH]

``--rev`` reads ``bench/labels/`` as committed at COMMIT (e.g. the labels before a correction);
``--diff`` lists every disagreement with the start of its paragraph (read from ``../shared``;
printed only, never written).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from bench import eval_split
from bench.corpus import ROOT, SharedMissing, excerpts, write_results
from bench.labelled import LABELS_DIR, dev_records, label_refs, paragraphs

KINDS = "TLSB"


class Pair(NamedTuple):
    """One excerpt labelled twice: ``ref`` is the label under check, ``check`` the relabelling."""

    url: str
    lang: str
    ref: str
    check: str


def pair_up(
    refs: Sequence[dict[str, Any]], checks: Sequence[dict[str, Any]], lang: dict[str, str]
) -> list[Pair]:
    """Check lines matched to reference lines by URL (in the check's order).

    A check without a reference, or whose paragraph count differs, is reported on stderr and
    left out: a misaligned pair would count as disagreement that is none.
    """
    by_url = {r["url"]: r["labels"] for r in refs}
    out: list[Pair] = []
    for c in checks:
        ref = by_url.get(c["url"])
        if ref is None or len(ref) != len(c["labels"]):
            why = "no reference" if ref is None else f"{len(ref)} vs {len(c['labels'])} labels"
            print(f"label_agreement: {c['url']}: {why}; left out", file=sys.stderr)
            continue
        out.append(Pair(c["url"], lang.get(c["url"]) or "?", "".join(ref), c["labels"]))
    return out


def _prf(pairs: Sequence[Pair], kind: str) -> dict[str, float]:
    tp = sum(a == b == kind for p in pairs for a, b in zip(p.ref, p.check, strict=True))
    n_check = sum(p.check.count(kind) for p in pairs)
    n_ref = sum(p.ref.count(kind) for p in pairs)
    return eval_split._prf(tp, n_check, n_ref)


def agreement(pairs: Sequence[Pair]) -> dict[str, Any]:
    """Paragraph agreement, confusion (``"LB"``: reference L, check B) and lead / teaser P/R/F1."""
    conf: Counter[str] = Counter(a + b for p in pairs for a, b in zip(p.ref, p.check, strict=True))
    n = sum(conf.values())
    same = sum(v for k, v in conf.items() if k[0] == k[1])
    return {
        "excerpts": len(pairs),
        "identical_excerpts": sum(p.ref == p.check for p in pairs),
        "paragraphs": n,
        "agree": same,
        "agreement": round(same / n, 4) if n else 1.0,
        "confusion": dict(sorted(conf.items())),
        "lead": _prf(pairs, "L"),
        "teasers": _prf(pairs, "S"),
        "title": _prf(pairs, "T"),
        "boilerplate": _prf(pairs, "B"),
    }


def report(pairs: Sequence[Pair]) -> dict[str, Any]:
    """``agreement`` over all pairs plus one per language."""
    out = agreement(pairs)
    out["by_lang"] = {
        lang: agreement([p for p in pairs if p.lang == lang])
        for lang in sorted({p.lang for p in pairs})
    }
    return out


def _line(name: str, a: dict[str, Any]) -> str:
    return (
        f"{name:<14} {a['excerpts']:>3} excerpts ({a['identical_excerpts']} identical),"
        f" {a['agree']}/{a['paragraphs']} paragraphs = {a['agreement']:.1%}"
        f" | lead P={a['lead']['p']:.3f} R={a['lead']['r']:.3f} F1={a['lead']['f1']:.3f}"
        f" | teasers P={a['teasers']['p']:.3f} R={a['teasers']['r']:.3f}"
        f" F1={a['teasers']['f1']:.3f}"
    )


def _matrix(conf: dict[str, int]) -> list[str]:
    rows = ["  ref\\check " + "".join(f"{k:>6}" for k in KINDS)]
    for a in KINDS:
        rows.append(f"  {a:<10}" + "".join(f"{conf.get(a + b, 0):>6}" for b in KINDS))
    return rows


def _refs_at(rev: str, into: Path) -> Path:
    """``bench/labels/`` as committed at ``rev``, written to ``into`` (references only)."""
    names = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{rev}:bench/labels"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for name in names:
        if name.endswith(".jsonl"):
            body = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{rev}:bench/labels/{name}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            (into / name).write_text(body, encoding="utf-8")
    return into


def comparisons(labels_dir: Path) -> dict[str, list[Pair]]:
    """The pairs of each check: ``batch-e`` vs batch-a/b, ``batch-d`` vs the dev gold."""
    dev = dev_records()
    lang = {r["url"]: r.get("lang") or "?" for r in excerpts()}
    lang.update({r["url"]: r.get("lang") or "?" for r in dev})
    checks = label_refs(labels_dir, checks=True)
    dev_refs = [{"url": r["url"], "labels": "".join(r["labels"])} for r in dev]
    return {
        "batch-e vs a/b": pair_up(
            label_refs(labels_dir), [c for c in checks if c.get("by") == "batch-e"], lang
        ),
        "batch-d vs dev": pair_up(dev_refs, [c for c in checks if c.get("by") == "batch-d"], lang),
    }


def _diff(pairs: Sequence[Pair]) -> None:
    texts = {r["url"]: paragraphs(r["text"]) for r in excerpts()}
    texts.update({r["url"]: r["paras"] for r in dev_records()})
    for p in pairs:
        for i, (a, b) in enumerate(zip(p.ref, p.check, strict=True)):
            if a != b:
                para = texts.get(p.url, [])
                start = para[i][:90] if i < len(para) else "?"
                print(f"  {a}->{b} [{i}/{len(p.ref)}] {p.url}\n      {start}")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.label_agreement", description=__doc__)
    ap.add_argument("--rev", help="read bench/labels as committed at this git revision")
    ap.add_argument("--diff", action="store_true", help="list every disagreement")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        labels_dir = _refs_at(args.rev, Path(tmp)) if args.rev else LABELS_DIR
        try:
            comps = comparisons(labels_dir)
        except SharedMissing as exc:
            print(f"label_agreement: skipped: {exc}")
            return 0
    res: dict[str, Any] = {"rev": args.rev or "worktree"}
    for name, pairs in comps.items():
        r = res[name] = report(pairs)
        print(_line(name, r))
        for lang, a in r["by_lang"].items():
            print(_line(f"  {lang}", a))
        print("\n".join(_matrix(r["confusion"])))
        if args.diff:
            _diff(pairs)
    if args.json:
        write_results(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
