"""Evaluate the lead/teaser splitter (paragraph-level P/R/F1, Jaccard >= 0.6 word-set matching).

Usage: python -m bench.eval_split [--json PATH] [--no-trafilatura] [--no-lso] [--errors]

The default splitter (the trained model) and the hand rules are scored side by side; then
leave-sites-out cross-validation (``bench.lso_split``) on every labelled record.

Reads the shared dev set in place (/work/main/../shared or $NEWS_SHARED_DIR) and the repo's own
gold set tests/data/split_gold.jsonl; trafilatura's extract (taken as the lead, no teasers) is run
on the HTML items as a reference point, with throughput for both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bench.corpus import write_results
from streams.text.split import HandScorer, SplitResult, split

REPO = Path(__file__).resolve().parents[1]
OWN_GOLD = REPO / "tests" / "data" / "split_gold.jsonl"
_WORD = re.compile(r"\w+")
JACCARD = 0.6


def shared_dir() -> Path:
    env = os.environ.get("NEWS_SHARED_DIR")
    return Path(env) if env else (REPO / ".." / "shared").resolve()


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def match_count(pred: Sequence[str], gold: Sequence[str]) -> int:
    """One-to-one matches, best Jaccard pairs first (greedy), counting pairs with J >= 0.6."""
    pw = [_words(p) for p in pred]
    gw = [_words(g) for g in gold]
    pairs: list[tuple[float, int, int]] = []
    for i, a in enumerate(pw):
        for j, b in enumerate(gw):
            u = len(a | b)
            jac = len(a & b) / u if u else 1.0
            if jac >= JACCARD:
                pairs.append((jac, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_p: set[int] = set()
    used_g: set[int] = set()
    for _, i, j in pairs:
        if i not in used_p and j not in used_g:
            used_p.add(i)
            used_g.add(j)
    return len(used_p)


def lead_lists(res: SplitResult) -> list[str]:
    return ([res.title] if res.title else []) + list(res.lead)


def gold_lead(gold: dict[str, Any]) -> list[str]:
    return ([gold["title"]] if gold.get("title") else []) + list(gold.get("lead") or [])


def _prf(tp: int, np_: int, ng: int) -> dict[str, float]:
    # Nothing predicted and nothing expected is perfect; nothing predicted otherwise scores 0.
    p = tp / np_ if np_ else (1.0 if not ng else 0.0)
    r = tp / ng if ng else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "p": round(p, 4),
        "r": round(r, 4),
        "f1": round(f, 4),
        "tp": tp,
        "pred": np_,
        "gold": ng,
    }


def run(row: dict[str, Any]) -> SplitResult:
    if "html" in row:
        return split(html=row["html"])
    return split(row["text"])


def evaluate(
    rows: Iterable[dict[str, Any]], splitter: Callable[[dict[str, Any]], SplitResult] | None = None
) -> dict[str, Any]:
    """Scores for `rows` (split.jsonl format): overall and per input kind (text/html).

    Lead and teasers as the bars define them; also title accuracy (exact, "no title" included)
    and, where the gold lists its boilerplate paragraphs, boilerplate P/R/F1 (same matching)."""
    fn = splitter or run
    acc: dict[str, list[int]] = {}
    n: dict[str, int] = {}
    for row in rows:
        res = fn(row)
        gold = row["gold"]
        pl, gl = lead_lists(res), gold_lead(gold)
        pt, gt = [t.text for t in res.teasers], list(gold.get("teasers") or [])
        ml, mt = match_count(pl, gl), match_count(pt, gt)
        title_ok = int((res.title or None) == (gold.get("title") or None))
        gb = gold.get("boilerplate")
        has_b = gb is not None
        pb = list(res.boilerplate) if has_b else []
        mb = match_count(pb, gb) if gb else 0
        kind = "html" if "html" in row else "text"
        vals = (ml, len(pl), len(gl), mt, len(pt), len(gt), title_ok, mb, len(pb), len(gb or []))
        for key in ("all", kind):
            a = acc.setdefault(key, [0] * 11)
            for idx, v in enumerate(vals):
                a[idx] += v
            a[10] += has_b
            n[key] = n.get(key, 0) + 1
    out: dict[str, Any] = {}
    for key, a in acc.items():
        out[key] = {
            "items": n[key],
            "lead": _prf(a[0], a[1], a[2]),
            "teasers": _prf(a[3], a[4], a[5]),
            "title_acc": round(a[6] / n[key], 4),
        }
        if a[10]:
            out[key]["boilerplate"] = _prf(a[7], a[8], a[9])
    return out


def with_boilerplate_gold(rows: Sequence[dict[str, Any]], base: Path) -> list[dict[str, Any]]:
    """split.jsonl rows with ``gold.boilerplate`` = the B paragraphs of their record (digests:
    none), so boilerplate P/R can be scored on the dev set too."""
    path = base / "eval-dev" / "records.jsonl"
    if not path.exists():
        return list(rows)
    recs = {r["rid"]: r for r in load_jsonl(path)}
    out = []
    for row in rows:
        rec = recs.get(row["id"].rsplit("-", 1)[0])
        if rec is None:
            out.append(row)
            continue
        digest = not row["gold"].get("lead") and not row["gold"].get("title")
        pairs = zip(rec["paras"], rec["labels"], strict=True)
        bps = [] if digest else [p for p, lab in pairs if lab == "B"]
        out.append({**row, "gold": {**row["gold"], "boilerplate": bps}})
    return out


def errors(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Human-readable list of mismatching paragraphs, for error analysis."""
    lines: list[str] = []
    for row in rows:
        res = run(row)
        gl, gt = gold_lead(row["gold"]), list(row["gold"].get("teasers") or [])
        for name, pred, gold in (
            ("lead", lead_lists(res), gl),
            ("teaser", [t.text for t in res.teasers], gt),
        ):
            for p in pred:
                if match_count([p], gold) == 0:
                    lines.append(f"{row['id']} FP {name}: {p[:110]}")
            for g in gold:
                if match_count(pred, [g]) == 0:
                    lines.append(f"{row['id']} FN {name}: {g[:110]}")
    return lines


def throughput(rows: Sequence[dict[str, Any]], fn: Any, min_seconds: float = 0.5) -> float:
    """Items per second of `fn(row)` over `rows`, repeated until `min_seconds` have passed."""
    if not rows:
        return 0.0
    done, t0 = 0, time.perf_counter()
    while True:
        for row in rows:
            fn(row)
        done += len(rows)
        dt = time.perf_counter() - t0
        if dt >= min_seconds:
            return done / dt


def trafilatura_eval(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """trafilatura.extract on the HTML items, taken as the lead with no teasers."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - dev extra missing
        return None
    html_rows = [r for r in rows if "html" in r]
    if not html_rows:
        return None

    def extract(row: dict[str, Any]) -> list[str]:
        txt = trafilatura.extract(row["html"], include_comments=False, favor_recall=True) or ""
        return [ln.strip() for ln in txt.splitlines() if ln.strip()]

    tl = pl = gl = gt = 0
    for row in html_rows:
        pred = extract(row)
        gold = gold_lead(row["gold"])
        tl += match_count(pred, gold)
        pl += len(pred)
        gl += len(gold)
        gt += len(row["gold"].get("teasers") or [])
    t_ips = throughput(html_rows, extract, 1.0)
    o_ips = throughput(html_rows, run, 1.0)
    return {
        "items": len(html_rows),
        "lead": _prf(tl, pl, gl),
        "teasers": _prf(0, 0, gt),
        "items_per_s": round(t_ips, 1),
        "ours_items_per_s": round(o_ips, 1),
        "speedup": round(o_ips / t_ips, 1) if t_ips else None,
    }


def seed_check(base: Path) -> dict[str, Any] | None:
    gold_path = base / "eval-dev" / "seed.gold.json"
    if not gold_path.exists():
        return None
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    src = base / gold["source"]
    res = split(src.read_text(encoding="utf-8"))
    teasers = [t.text for t in res.teasers]
    return {
        "title": res.title,
        "title_ok": res.title == gold["title"],
        "lead": len(res.lead),
        "lead_ok": res.lead == gold["lead"],
        "teasers": len(teasers),
        "unique_teasers": len(dict.fromkeys(teasers)),
        "teasers_ok": teasers == gold["teasers"],
    }


def _fmt(name: str, r: dict[str, Any]) -> str:
    lead, tz = r["lead"], r["teasers"]
    return (
        f"  {name:<6} n={r['items']:<4} lead P={lead['p']:.3f} R={lead['r']:.3f}"
        f" F1={lead['f1']:.3f} | teasers P={tz['p']:.3f} R={tz['r']:.3f} F1={tz['f1']:.3f}"
    )


def run_hand(row: dict[str, Any]) -> SplitResult:
    """Today's hand rules (no trained model), for the comparison."""
    if "html" in row:
        return split(html=row["html"], scorer=HandScorer())
    return split(row["text"], scorer=HandScorer())


def _fmt_full(name: str, r: dict[str, Any]) -> str:
    line = _fmt(name, r) + f" | title acc={r['title_acc']:.3f}"
    if "boilerplate" in r:
        b = r["boilerplate"]
        line += f" | boiler P={b['p']:.3f} R={b['r']:.3f}"
    return line


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.eval_split", description=__doc__)
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    ap.add_argument("--no-trafilatura", action="store_true")
    ap.add_argument("--no-lso", action="store_true", help="skip leave-sites-out validation")
    ap.add_argument("--errors", action="store_true", help="list mismatching paragraphs")
    args = ap.parse_args(argv)

    base = shared_dir()
    figures: dict[str, Any] = {}
    sets: list[tuple[str, Path]] = [
        ("dev", base / "eval-dev" / "split.jsonl"),
        ("own", OWN_GOLD),
    ]
    for name, path in sets:
        if not path.exists():
            print(f"{name}: {path} not found, skipped")
            continue
        rows = load_jsonl(path)
        if name == "dev":
            rows = with_boilerplate_gold(rows, base)
        res = evaluate(rows)
        res["split_items_per_s"] = round(throughput(rows, run, 1.0), 1)
        figures[name] = res
        hand = evaluate(rows, run_hand)
        hand["split_items_per_s"] = round(throughput(rows, run_hand, 1.0), 1)
        figures[f"{name}_hand"] = hand
        print(f"{name} ({path}), trained model (default) / hand rules:")
        for kind in ("all", "text", "html"):
            if kind in res:
                print(_fmt_full(kind, res[kind]))
                print(_fmt_full("  hand", hand[kind]))
        print(
            f"  split throughput: {res['split_items_per_s']:.0f} items/s"
            f" (hand rules {hand['split_items_per_s']:.0f} items/s)"
        )
        if args.errors:
            for line in errors(rows):
                print("   ", line)
        if name == "dev" and not args.no_trafilatura:
            tr = trafilatura_eval(rows)
            if tr is not None:
                figures["trafilatura_dev_html"] = tr
                print(_fmt("trafil", tr) + " (HTML items, extract() taken as lead)")
                print(
                    f"  trafilatura {tr['items_per_s']:.0f} items/s vs ours"
                    f" {tr['ours_items_per_s']:.0f} items/s on the same HTML (x{tr['speedup']})"
                )
    seed = seed_check(base)
    if seed is not None:
        figures["seed"] = seed
        print(
            f"seed: title={'ok' if seed['title_ok'] else 'WRONG'} lead={seed['lead']}"
            f"{'(ok)' if seed['lead_ok'] else '(WRONG)'} teasers={seed['teasers']}"
            f" unique={seed['unique_teasers']} {'(ok)' if seed['teasers_ok'] else '(WRONG)'}"
        )
    if not args.no_lso:
        from bench import lso_split
        from bench.labelled import all_records

        records = all_records()
        lso = lso_split.lso(records)
        figures["lso"] = lso
        print(
            f"leave-sites-out ({lso['folds']} site folds, {lso['records']} labelled records,"
            f" {lso['sites']} sites; model refitted per fold; items built by bench.split_items):"
        )
        for kind in ("all", "text", "html"):
            print(_fmt_full(kind, lso["model"][kind]))
            print(_fmt_full("  hand", lso["hand"][kind]))
    if args.json:
        write_results(args.json, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
