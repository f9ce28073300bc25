"""Train the theme classifier (``streams/text/topics_model.json``) from the labelled excerpts.

Usage: python -m bench.train_topics [--out PATH] [--check]

Data: ``bench.labelled.all_records()`` (the dev records plus ``bench/labels/*.jsonl`` joined with
the excerpt texts, read in place from ``../shared``); a record's text is its title + lead (the T
and L paragraphs), its targets its ``themes``. Model: one L2-regularised logistic regression per
theme over ``streams.text.topics.features`` (stems + the keyword tagger's verdicts), fitted by
full-batch Nesterov gradient descent (numpy; deterministic: no sampling, fixed iterations).

Thresholds: per theme, the F1-best cut of out-of-fold scores from leave-sites-out folds *inside*
the data the model is fitted on (so ``bench.eval_topics`` can nest this whole procedure in its
own outer folds without a held-out site ever choosing a threshold).

--check retrains and exits 1 if the packaged model differs (reproducibility check).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.corpus import ROOT, SharedMissing
from bench.labelled import THEMES, all_records, iter_fold_splits
from streams.text.tag import THEME_TAGS, Tagger
from streams.text.topics import MODEL_NAME, features

MODEL_PATH = ROOT / "streams" / "text" / MODEL_NAME


@dataclass(frozen=True)
class Params:
    """Hyper-parameters (fixed here; chosen once by leave-sites-out CV, see bench.eval_topics)."""

    stem_len: int = 6
    l2: float = 0.0003  # per-example penalty: loss = mean logloss + l2/2 * |w|^2
    min_df: int = 3  # a stem must occur in >= min_df fitting texts to get a weight
    keywords: bool = True  # kw:<theme> features from the keyword tagger
    kw_value: float = 0.25  # their value (the stems' vector has length 1)
    title_weight: float = 1.0  # length of the t:<stem> headline vector (0: none)
    max_themes: int = 2  # at most this many themes per text (0: no cap)
    backoff: float = 0.4  # keyword themes added where the model knows < this share of stems
    pos_weight: float = 3.0  # positives weigh more (themes are rare); thresholds recalibrate
    iterations: int = 1500
    inner_folds: int = 4
    decimals: int = 3
    prune: float = 0.1  # weights below this (absolute) are dropped from the model file


def lead_text(record: Mapping[str, Any]) -> str:
    """The text a theme is judged on: title + lead (T and L paragraphs), one per line."""
    return "\n".join(
        p for p, lab in zip(record["paras"], record["labels"], strict=True) if lab in "TL"
    )


def examples(records: Sequence[Mapping[str, Any]], tagger: Tagger) -> list[dict[str, Any]]:
    """Records as training examples: text, gold themes, site, the keyword tagger's themes."""
    themes = set(THEME_TAGS)
    out = []
    for r in records:
        text = lead_text(r)
        kw = [t for t in tagger.tag(text) if t in themes]
        out.append(
            {
                "text": text,
                "themes": set(r.get("themes") or []),
                "site": r["site"],
                "kw": kw,
                "url": r.get("url"),
                "origin": r.get("origin"),
                "_features": {},
            }
        )
    return out


# ---------------------------------------------------------------------------- fitting


def _features(e: Mapping[str, Any], p: Params) -> dict[str, float]:
    """features() of an example, memoised in the example (folds refit on the same texts)."""
    key = (p.stem_len, p.keywords, p.kw_value, p.title_weight)
    memo = e["_features"]
    got = memo.get(key)
    if got is None:
        kw = e["kw"] if p.keywords else ()
        got = memo[key] = features(
            e["text"], p.stem_len, kw, kw_value=p.kw_value, title_weight=p.title_weight
        )
    return got


def _matrix(exs: Sequence[Mapping[str, Any]], vocab: Mapping[str, int], p: Params) -> Any:
    import numpy as np

    x = np.zeros((len(exs), len(vocab)), dtype=np.float64)
    for i, e in enumerate(exs):
        for f, v in _features(e, p).items():
            j = vocab.get(f)
            if j is not None:
                x[i, j] = v
    return x


def _targets(exs: Sequence[Mapping[str, Any]]) -> Any:
    import numpy as np

    return np.array([[t in e["themes"] for t in THEMES] for e in exs], dtype=np.float64)


def _vocab(exs: Sequence[Mapping[str, Any]], p: Params) -> dict[str, int]:
    df: dict[str, int] = {}
    for e in exs:
        for f in _features(e, p):
            df[f] = df.get(f, 0) + 1
    keep = sorted(f for f, n in df.items() if n >= p.min_df or f.startswith("kw:"))
    return {f: i for i, f in enumerate(keep)}


def _sq_norm(x: Any) -> float:
    """An upper estimate of the squared spectral norm of x (power iteration on x^T x, + 5 %)."""
    import numpy as np

    v = np.ones(x.shape[1]) / np.sqrt(x.shape[1])
    lam = 0.0
    for _ in range(30):
        u = x.T @ (x @ v)
        lam = float(np.linalg.norm(u))
        if lam == 0.0:
            return 1.0
        v = u / lam
    return lam * 1.05


def _fit_lr(x: Any, y: Any, p: Params) -> tuple[Any, Any]:
    """Weighted L2 logistic regression for all themes at once (columns of y).

    Nesterov-accelerated gradient descent started at 0 keeps w in the row space of x, so it
    runs on w = x^T a with the Gram matrix x x^T: n x n work per step instead of n x d.
    """
    import numpy as np

    n = x.shape[0]
    k = x @ x.T
    sw = np.where(y > 0, p.pos_weight, 1.0)
    sw = sw / sw.mean(axis=0, keepdims=True)
    # Lipschitz bound of the gradient in (w, b): 0.25 * |[X 1]|_2^2 * max weight / n + l2,
    # with |[X 1]|^2 <= |X|^2 + n (the bias column)
    lip = 0.25 * (_sq_norm(x) + n) * float(sw.max()) / n + p.l2 + 1e-9
    step = 1.0 / lip
    a = np.zeros((n, y.shape[1]))
    b = np.zeros(y.shape[1])
    va, vb = a.copy(), b.copy()
    t = 1.0
    for _ in range(p.iterations):
        z = k @ va + vb
        g = (1.0 / (1.0 + np.exp(-z)) - y) * sw / n
        a_new = va - step * (g + p.l2 * va)
        b_new = vb - step * g.sum(axis=0)
        t_new = (1 + (1 + 4 * t * t) ** 0.5) / 2
        mom = (t - 1) / t_new
        va = a_new + mom * (a_new - a)
        vb = b_new + mom * (b_new - b)
        a, b, t = a_new, b_new, t_new
    return x.T @ a, b


@dataclass
class Fitted:
    vocab: dict[str, int]
    w: Any
    b: Any
    params: Params

    def decision(self, exs: Sequence[Mapping[str, Any]]) -> Any:
        return _matrix(exs, self.vocab, self.params) @ self.w + self.b


def fit(exs: Sequence[Mapping[str, Any]], p: Params) -> Fitted:
    vocab = _vocab(exs, p)
    w, b = _fit_lr(_matrix(exs, vocab, p), _targets(exs), p)
    return Fitted(vocab, w, b, p)


def _folds(exs: Sequence[Mapping[str, Any]], k: int) -> list[tuple[list[int], list[int]]]:
    return list(iter_fold_splits([{"site": e["site"]} for e in exs], k))


def oof_decisions(exs: Sequence[Mapping[str, Any]], p: Params, k: int) -> Any:
    """Out-of-fold decision scores: each example scored by a model fitted without its site."""
    import numpy as np

    out = np.zeros((len(exs), len(THEMES)))
    for fit_i, held_i in _folds(exs, k):
        m = fit([exs[i] for i in fit_i], p)
        out[held_i] = m.decision([exs[i] for i in held_i])
    return out


def best_threshold(scores: Any, gold: Any) -> float:
    """The F1-best cut (midpoint between neighbouring scores); 0.0 (p = 0.5) with < 2 positives."""
    import numpy as np

    pos = int(gold.sum())
    if pos < 2:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    s, g = scores[order], gold[order]
    tp = np.cumsum(g)
    k = np.arange(1, len(s) + 1)
    f1 = 2 * tp / (k + pos)
    # only cut between distinct scores
    valid = np.append(s[:-1] > s[1:], True)
    f1 = np.where(valid, f1, -1)
    i = int(np.argmax(f1))
    return float((s[i] + s[i + 1]) / 2) if i + 1 < len(s) else float(s[i] - 1e-6)


def thresholds(exs: Sequence[Mapping[str, Any]], p: Params) -> list[float]:
    dec = oof_decisions(exs, p, p.inner_folds)
    y = _targets(exs)
    return [best_threshold(dec[:, j], y[:, j]) for j in range(len(THEMES))]


def train(exs: Sequence[Mapping[str, Any]], p: Params) -> tuple[Fitted, list[float]]:
    """Thresholds from inner leave-sites-out folds, then the model fitted on all of exs."""
    return fit(exs, p), thresholds(exs, p)


def to_json(m: Fitted, th: Sequence[float], meta: Mapping[str, Any]) -> dict[str, Any]:
    """The packaged model: sparse weights (rounded; zeros dropped) per theme."""
    p = m.params
    feats = sorted(m.vocab, key=m.vocab.__getitem__)
    weights: dict[str, dict[str, float]] = {}
    for j, t in enumerate(THEMES):
        col = m.w[:, j]
        ws = {f: round(float(col[i]), p.decimals) for i, f in enumerate(feats)}
        weights[t] = {f: v for f, v in sorted(ws.items()) if abs(v) >= p.prune}
    return {
        "version": 1,
        "themes": list(THEMES),
        "stem_len": p.stem_len,
        "kw_value": p.kw_value,
        "title_weight": p.title_weight,
        "max_themes": p.max_themes,
        "backoff": p.backoff,
        "bias": {t: round(float(m.b[j]), p.decimals) for j, t in enumerate(THEMES)},
        "threshold": {t: round(float(th[j]), p.decimals) for j, t in enumerate(THEMES)},
        "weights": weights,
        "meta": dict(meta),
    }


def build_model(records: Sequence[Mapping[str, Any]], p: Params | None = None) -> dict[str, Any]:
    p = p or Params()
    if tuple(THEMES) != tuple(THEME_TAGS):
        raise AssertionError(f"bench.labelled.THEMES {THEMES} != taxonomy themes {THEME_TAGS}")
    exs = examples(records, Tagger.from_yaml())
    m, th = train(exs, p)
    counts = {t: sum(t in e["themes"] for e in exs) for t in THEMES}
    meta = {
        "records": len(exs),
        "sites": len({e["site"] for e in exs}),
        "theme_counts": counts,
        "params": asdict(p),
        "trained_by": "python -m bench.train_topics",
    }
    return to_json(m, th, meta)


def dumps(model: Mapping[str, Any]) -> str:
    return json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.train_topics", description=__doc__)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument("--check", action="store_true", help="fail if retraining changes the model")
    args = ap.parse_args(argv)
    try:
        records = all_records()
    except SharedMissing as exc:
        print(f"skipped: {exc}", file=sys.stderr)
        return 0
    text = dumps(build_model(records))
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("model reproduced" if same else f"model differs from {args.out}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    model = json.loads(text)
    n = sum(len(v) for v in model["weights"].values())
    print(
        f"written {args.out}: {model['meta']['records']} records, {model['meta']['sites']} sites, "
        f"{n} weights, {len(text) / 1024:.0f} KiB; thresholds {model['threshold']}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
