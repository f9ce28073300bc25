"""Experiment (not used by the package): a nonlinear, gradient-boosted per-unit role scorer
beside the splitter's linear CRF, measured under leave-sites-out cross-validation
(``bench.lso_split``'s folds, items and scoring; scikit-learn at run time here, as a prototype).

Variants (``--variants``, comma-separated):

* ``crf``: the CRF as ``bench.train_split`` fits it (the baseline, same run);
* ``stack``: the CRF with three more unit features, the trees' log-odds of T, L and S against B
  (scaled by ``GB_SCALE``). On the CRF's training items they come out of fold (``--inner``
  site folds of the training records: each fold's units scored by trees fitted on the other
  folds' items); the scored fold's come from trees fitted on every training item;
* ``stack2``: as ``stack``, the trees also reading the CRF's own out-of-fold unit scores;
* ``gbdt``: the trees' log-probabilities alone as unit scores, with counted transitions
  (``bench.train_split.transitions``) in the same constrained decode;
* ``sum``: the CRF's unit scores plus the trees' log-odds (a fixed product of experts);
* ``leaves``: the CRF with one-hot leaf features of a few trees (``--leaf-iters`` rounds).

The trees (``HistGradientBoostingClassifier``) see the dense context features
(``features.DENSE``), the categorical context (rules' role of the unit and its neighbours, why a
rule fixed it, tag, position), the paragraph's shape and furniture flags (no words), its word and
character counts and stem weight, and the same facts of its neighbours (``--no-nb``: not;
``--nbctx``: also their dense context vectors). Nothing of a scored site is seen in fitting.

``--speed`` fits the trees on every labelled record, exports them as nested lists, compiles
them into one pure-Python function (``compile_trees``), checks it against scikit-learn and
times rows, trees, the packaged linear scores and a whole ``split_text`` per seed-like item.

    python -m bench.gbdt_split [--variants crf,stack] [--json bench/results/gbdt_split.json]
    python -m bench.gbdt_split --speed --iters 15 --depth 4 --lr 0.3 [--json PATH]

Found (2026-12-01, 570 records, 5 site folds; lead / teaser F1): the CRF 0.941 / 0.971;
``stack`` 0.945 / 0.973 (50 rounds of depth 3, 200 trees; 60 trees of depth 4: the same; 40
trees: 0.941 / 0.971), under the +0.005 bar set for keeping it, and the 60 trees alone cost
about as much as the whole linear scoring per item; ``stack2``, ``gbdt``, ``sum`` and
``leaves`` lower. Not used by the package.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import eval_split, lso_split, train_split
from bench.corpus import write_results
from bench.labelled import all_records, iter_fold_splits, site_folds
from bench.split_items import build_items
from streams.text.html import Block
from streams.text.split import rules as R
from streams.text.split.features import (
    DENSE,
    KEEP_FIXED,
    ROLES,
    context_features,
    text_feats,
    unit_features,
)
from streams.text.split.model import LinearScorer

# Context-free facts of a paragraph the trees may use (no words: they would memorise sites).
TEXT_FLAGS = (
    "long", "trunc", "lower", "anaph", "weak_anaph", "no_entity", "end_punct", "end_colon",
    "end_quote", "digit0", "headline", "p:marker_only", "p:marker_prefix", "p:media",
    "p:boiler_word", "p:date", "p:credit", "p:social", "p:subscribe", "p:appeal", "p:crumb",
    "p:tagline", "p:person", "p:minor", "p:end_of_article", "p:credit_word", "p:slash_tail",
    "p:ago", "p:views", "p:updating", "p:time", "p:datenum", "p:handle",
)  # fmt: skip
_FLAG_IDX = {n: j for j, n in enumerate(TEXT_FLAGS)}
ROLE_CODE = {"T": 0, "L": 1, "S": 2, "B": 3, "^": 4, "$": 5}
FIXED_CODE = {"": 0, "after_hard": 1, "title": 2, "echo": 3, "after_marker": 4, "repeat": 5}
TAG_CODE: dict[str, int] = {}
# Categorical columns: rules' role, previous and next role, fixed, tag.
N_CAT = 5
NBCTX = False  # also the neighbours' dense context vectors (--nbctx)


def _tag_code(tag: str) -> int:
    return TAG_CODE.setdefault(tag, len(TAG_CODE))


def _text_vec(f: R._Feat) -> list[float]:
    v = [0.0] * len(TEXT_FLAGS)
    for name, _ in text_feats(f):
        j = _FLAG_IDX.get(name)
        if j is not None:
            v[j] = 1.0
    text = f.text
    return [*v, float(text.count(" ") + 1), float(len(text)), float(f.weight)]


def gb_rows(
    units: Sequence[R._Unit],
    blocks: Sequence[Block] | None,
    title: str | None,
    *,
    nb: bool = True,
) -> list[list[float] | None]:
    """One dense row per scored unit (None where a rule fixed the role for good)."""
    tv = [_text_vec(u.f.analysed()) for u in units]
    out: list[list[float] | None] = []
    n = len(units)
    empty = [-1.0] * len(tv[0]) if tv else []
    ctxs = context_features(units, blocks, title)
    nodense = [-1.0] * len(DENSE)
    for i, cf in enumerate(ctxs):
        if cf is None:
            out.append(None)
            continue
        dense, key = cf
        role, prev_r, next_r, fixed, k, last, has_title, tag = key
        row = [
            float(ROLE_CODE[role]),
            float(ROLE_CODE[prev_r]),
            float(ROLE_CODE[next_r]),
            float(FIXED_CODE.get(fixed, 6)),
            float(_tag_code(tag)),
            float(k),
            float(last),
            float(bool(has_title)),
            float(n),
            *dense,
            *tv[i],
        ]
        if nb:
            row += tv[i - 1] if i else empty
            row += tv[i + 1] if i + 1 < n else empty
            row.append(float(units[i - 1].fixed in KEEP_FIXED) if i else -1.0)
            row.append(float(units[i + 1].fixed in KEEP_FIXED) if i + 1 < n else -1.0)
        if NBCTX:
            pc = ctxs[i - 1] if i else None
            nc = ctxs[i + 1] if i + 1 < n else None
            row += pc[0] if pc is not None else nodense
            row += nc[0] if nc is not None else nodense
        out.append(row)
    return out


def dataset(
    rows: Sequence[dict[str, Any]], *, nb: bool
) -> tuple[list[dict[str, float]], list[str], list[str], list[list[float]], list[int]]:
    """As ``train_split.dataset``, plus the boosted model's rows and each unit's item index."""
    xs: list[dict[str, float]] = []
    ys: list[str] = []
    seqs: list[str] = []
    gbx: list[list[float]] = []
    item_of: list[int] = []
    for ri, row in enumerate(rows):
        units, blocks, title = train_split.item_units(row)
        labels = train_split.unit_labels([u.text for u in units], row["gold"])
        gbr = gb_rows(units, blocks, title, nb=nb)
        for fs, g, lab in zip(unit_features(units, blocks, title), gbr, labels, strict=True):
            if fs is None:
                continue
            assert g is not None
            d: dict[str, float] = {}
            for k, v in fs:
                d[k] = d.get(k, 0.0) + v
            xs.append(d)
            ys.append(lab)
            gbx.append(g)
            item_of.append(ri)
        seqs.append(
            "".join(lab for u, lab in zip(units, labels, strict=True) if u.fixed not in KEEP_FIXED)
        )
    return xs, ys, seqs, gbx, item_of


def fit_gb(x: Any, y: Sequence[str], args: argparse.Namespace) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(
        max_iter=args.iters,
        max_depth=args.depth,
        learning_rate=args.lr,
        min_samples_leaf=args.leaf,
        l2_regularization=1.0,
        categorical_features=list(range(N_CAT)),
        early_stopping=False,
        random_state=0,
    )
    clf.fit(x, list(y))
    return clf


def log_odds(clf: Any, x: Any) -> Any:
    """log p(T|L|S) - log p(B) per row (classes absent from training: -8), clipped."""
    import numpy as np

    p = clf.predict_proba(x)
    lp = np.log(np.clip(p, 1e-6, 1.0))
    cls = list(clf.classes_)
    out = np.full((len(x), 4), -8.0)
    for j, r in enumerate(ROLES):
        if r in cls:
            out[:, j] = lp[:, cls.index(r)]
    out = out - out[:, 3:4]
    return np.clip(out[:, :3], -8.0, 8.0)


GB_FEATS = ("gb:T", "gb:L", "gb:S")
GB_SCALE = 0.25


class GBMixin:
    """Adds a boosted model's unit scores to a ``LinearScorer``'s (prototype: numpy at run
    time)."""

    clf: Any
    gb_w: list[tuple[float, float, float]]  # per gb feature, its weights on T, L, S vs B
    gb_only: bool
    nb: bool

    def _gb(self, units: Sequence[R._Unit], blocks: Any, title: str | None) -> list[Any]:
        import numpy as np

        rows = gb_rows(units, blocks, title, nb=self.nb)
        live = [r for r in rows if r is not None]
        lo = log_odds(self.clf, np.asarray(live)) if live else []
        it = iter(lo)
        return [None if r is None else next(it) for r in rows]


class StackScorer(LinearScorer, GBMixin):
    name = "stack"

    def _raw_scores(
        self, units: Sequence[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> list[tuple[float, float, float, float] | None]:
        base = super()._raw_scores(units, blocks, title)
        gbs = self._gb(units, blocks, title)
        out: list[tuple[float, float, float, float] | None] = []
        for b, g in zip(base, gbs, strict=True):
            if b is None:
                out.append(None)
                continue
            a = list(b[:3])
            if self.gb_only:
                a = [float(g[0]), float(g[1]), float(g[2])]
            else:
                for j in range(3):
                    w = self.gb_w[j]
                    x = float(g[j]) * GB_SCALE
                    a[0] += w[0] * x
                    a[1] += w[1] * x
                    a[2] += w[2] * x
            out.append((a[0], a[1], a[2], 0.0))
        return out


def _scorer(model: dict[str, Any], clf: Any, *, gb_only: bool, nb: bool, w: Any) -> StackScorer:
    sc = StackScorer(model)
    sc.clf, sc.gb_only, sc.nb, sc.gb_w = clf, gb_only, nb, w
    return sc


def _crf_model(
    xs: list[dict[str, float]],
    ys: list[str],
    seqs: list[str],
    meta: dict[str, Any],
    c: float,
    keep: str = "gb:",
) -> dict[str, Any]:
    from collections import Counter

    from sklearn.feature_extraction import DictVectorizer

    counts: Counter[str] = Counter(k for d in xs for k in d)
    xs = [
        {k: v for k, v in d.items() if counts[k] >= train_split.MIN_COUNT or k.startswith(keep)}
        for d in xs
    ]
    vec = DictVectorizer(sparse=True, sort=True)
    x = vec.fit_transform(xs)
    return train_split._fit_crf(x, vec, ys, seqs, c, meta)


def fit_fold(records: Sequence[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Every variant's model, fitted on ``records`` only."""
    import numpy as np

    rows = build_items(records, seed=train_split.SEED, variants=train_split.VARIANTS)
    xs, ys, seqs, gbx, item_of = dataset(rows, nb=args.nb)
    gx = np.asarray(gbx)
    meta = {"records": len(records), "units": len(ys)}
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    clf = fit_gb(gx, ys, args)
    out["gb_fit_s"] = time.perf_counter() - t0
    out["clf"] = clf
    need = set(args.variants)
    if need & {"crf", "sum", "stack2"}:
        out["crf"] = _crf_model(xs, ys, seqs, meta, train_split.C["crf"])
    if "gbdt" in need:
        trans, start = train_split.transitions(seqs)
        out["gbdt"] = {
            "roles": list(ROLES), "bias": [0.0] * 4, "weights": {}, "trans": trans,
            "start": start,
        }  # fmt: skip
    if "leaves" in need:
        import copy

        a2 = copy.copy(args)
        a2.iters, a2.lr = args.leaf_iters, args.leaf_lr
        spec = export(fit_gb(gx, ys, a2))
        xs3 = [{**d, **{n: 1.0 for n in leaf_ids(spec, r)}} for d, r in zip(xs, gbx, strict=True)]
        out["leaves"] = _crf_model(xs3, ys, seqs, meta, train_split.C["crf"], keep="lf:")
        out["leaves_spec"] = spec
    if "stack2" in need:
        out.update(_fit_stack2(records, xs, ys, seqs, gx, item_of, meta, args))
    if "stack" in need:
        # Out-of-fold boosted log-odds on the training items: inner site folds of ``records``.
        nrec = len(records)
        rec_fold = [0] * nrec
        for j, fold in enumerate(site_folds(records, args.inner, seed=29)):
            for i in fold:
                rec_fold[i] = j
        unit_fold = np.asarray([rec_fold[item_of[u] % nrec] for u in range(len(ys))])
        oof = np.zeros((len(ys), 3))
        yarr = np.asarray(ys)
        for j in range(args.inner):
            tr = unit_fold != j
            c = fit_gb(gx[tr], list(yarr[tr]), args)
            oof[~tr] = log_odds(c, gx[~tr])
        xs2 = [
            {**d, **{n: float(v) * GB_SCALE for n, v in zip(GB_FEATS, oof[u], strict=True)}}
            for u, d in enumerate(xs)
        ]
        m = _crf_model(xs2, ys, seqs, meta, train_split.C["crf"])
        out["stack"] = m
        out["stack_w"] = [tuple(m["weights"].get(n, [0.0] * 4)) for n in GB_FEATS]
    return out


def crf_scores(model: dict[str, Any], xs: Sequence[dict[str, float]]) -> Any:
    """The CRF's unit scores of T, L, S relative to B, from feature dicts."""
    import numpy as np

    w = model["weights"]
    b = model["bias"]
    out = np.zeros((len(xs), 3))
    for u, d in enumerate(xs):
        a = [b[0] - b[3], b[1] - b[3], b[2] - b[3]]
        for k, v in d.items():
            ws = w.get(k)
            if ws is not None:
                a[0] += (ws[0] - ws[3]) * v
                a[1] += (ws[1] - ws[3]) * v
                a[2] += (ws[2] - ws[3]) * v
        out[u] = a
    return out


def _fit_stack2(
    records: Sequence[dict[str, Any]],
    xs: list[dict[str, float]],
    ys: list[str],
    seqs: list[str],
    gx: Any,
    item_of: list[int],
    meta: dict[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Trees over the unit rows plus the CRF's own (out-of-fold) unit scores; their log-odds
    then go into a CRF as three more features (out of fold on its training items)."""
    import numpy as np

    nrec = len(records)
    rec_fold = [0] * nrec
    for j, fold in enumerate(site_folds(records, args.inner, seed=29)):
        for i in fold:
            rec_fold[i] = j
    row_fold = [rec_fold[r % nrec] for r in range(len(seqs))]
    unit_fold = np.asarray([row_fold[item_of[u]] for u in range(len(ys))])
    yarr = np.asarray(ys)
    oof_crf = np.zeros((len(ys), 3))
    for j in range(args.inner):
        tr = unit_fold != j
        sub_x = [d for d, t in zip(xs, tr, strict=True) if t]
        sub_seqs = [s for s, f in zip(seqs, row_fold, strict=True) if f != j]
        m = _crf_model(sub_x, list(yarr[tr]), sub_seqs, meta, train_split.C["crf"])
        held = [d for d, t in zip(xs, tr, strict=True) if not t]
        oof_crf[~tr] = crf_scores(m, held)
    gx2 = np.hstack([gx, oof_crf])
    oof = np.zeros((len(ys), 3))
    for j in range(args.inner):
        tr = unit_fold != j
        c = fit_gb(gx2[tr], list(yarr[tr]), args)
        oof[~tr] = log_odds(c, gx2[~tr])
    clf2 = fit_gb(gx2, ys, args)
    xs2 = [
        {**d, **{n: float(v) * GB_SCALE for n, v in zip(GB_FEATS, oof[u], strict=True)}}
        for u, d in enumerate(xs)
    ]
    m2 = _crf_model(xs2, ys, seqs, meta, train_split.C["crf"])
    return {
        "clf2": clf2,
        "stack2": m2,
        "stack2_w": [tuple(m2["weights"].get(n, [0.0] * 4)) for n in GB_FEATS],
    }


class Stack2Scorer(StackScorer):
    """As ``StackScorer``, the trees also reading the plain CRF's unit scores."""

    name = "stack2"
    base: LinearScorer

    def _gb(self, units: Sequence[R._Unit], blocks: Any, title: str | None) -> list[Any]:
        import numpy as np

        rows = gb_rows(units, blocks, title, nb=self.nb)
        cs = self.base._raw_scores(units, blocks, title)
        live = [[*r, *c[:3]] for r, c in zip(rows, cs, strict=True) if r is not None and c]
        lo = log_odds(self.clf, np.asarray(live)) if live else []
        it = iter(lo)
        return [None if r is None else next(it) for r in rows]


def leaf_ids(spec: dict[str, Any], row: Sequence[float]) -> list[str]:
    """The leaf each tree sends ``row`` to, as feature names ``lf:<tree>:<path>``."""
    out = []
    for t, (_, node) in enumerate(spec["trees"]):
        path = ""
        while isinstance(node, list):
            f, test, left, right = node
            go_left = row[f] in test if isinstance(test, list) else row[f] <= test
            path += "l" if go_left else "r"
            node = left if go_left else right
        out.append(f"lf:{t}:{path}")
    return out


class LeafScorer(LinearScorer):
    """The CRF with one-hot tree-leaf features (``leaves`` variant)."""

    name = "leaves"
    spec: dict[str, Any]
    nb: bool

    def _raw_scores(
        self, units: Sequence[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> list[tuple[float, float, float, float] | None]:
        base = super()._raw_scores(units, blocks, title)
        rows = gb_rows(units, blocks, title, nb=self.nb)
        zero = (0.0, 0.0, 0.0)
        out: list[tuple[float, float, float, float] | None] = []
        for b, r in zip(base, rows, strict=True):
            if b is None or r is None:
                out.append(None)
                continue
            a0, a1, a2 = b[0], b[1], b[2]
            for name in leaf_ids(self.spec, r):
                w = self.weights.get(name, zero)
                a0 += w[0]
                a1 += w[1]
                a2 += w[2]
            out.append((a0, a1, a2, 0.0))
        return out


def scorers(fitted: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    clf = fitted["clf"]
    out: dict[str, Any] = {}
    for v in args.variants:
        if v == "crf":
            out[v] = LinearScorer(fitted["crf"])
        elif v == "stack":
            m = fitted["stack"]
            w = [(x[0] - x[3], x[1] - x[3], x[2] - x[3]) for x in fitted["stack_w"]]
            out[v] = _scorer(m, clf, gb_only=False, nb=args.nb, w=w)
        elif v == "stack2":
            w = [(x[0] - x[3], x[1] - x[3], x[2] - x[3]) for x in fitted["stack2_w"]]
            sc2 = Stack2Scorer(fitted["stack2"])
            sc2.clf, sc2.gb_only, sc2.nb, sc2.gb_w = fitted["clf2"], False, args.nb, w
            sc2.base = LinearScorer(fitted["crf"])
            out[v] = sc2
        elif v == "leaves":
            ls = LeafScorer(fitted["leaves"])
            ls.spec, ls.nb = fitted["leaves_spec"], args.nb
            out[v] = ls
        elif v == "gbdt":
            out[v] = _scorer(fitted["gbdt"], clf, gb_only=True, nb=args.nb, w=None)
        elif v == "sum":
            # CRF unit scores + boosted log-odds: identity weights on the scaled features.
            s = 1.0 / GB_SCALE
            w = [(s, 0.0, 0.0), (0.0, s, 0.0), (0.0, 0.0, s)]
            out[v] = _scorer(fitted["crf"], clf, gb_only=False, nb=args.nb, w=w)
    return out


def _node(pred: Any, nodes: Any, j: int, cats: Sequence[Any]) -> Any:
    nd = nodes[j]
    if nd["is_leaf"]:
        return float(nd["value"])
    f = int(nd["feature_idx"])
    left = _node(pred, nodes, int(nd["left"]), cats)
    right = _node(pred, nodes, int(nd["right"]), cats)
    if not nd["is_categorical"]:
        return [f, float(nd["num_threshold"]), left, right]
    # scikit-learn re-encodes categorical columns (its ``_preprocessor``: an ordinal encoder,
    # categorical columns first, as here): the bitset holds encoded indices, mapped back to
    # the row's codes. An unseen code is "missing" for it; here it goes the same way.
    bits = pred.raw_left_cat_bitsets[int(nd["bitset_idx"])]
    known = [float(c) for c in cats[f]]
    goes_left = [(int(bits[v >> 5]) >> (v & 31)) & 1 for v in range(len(known))]
    if nd["missing_go_to_left"]:  # test the codes that go right; everything else goes left
        return [f, [c for c, g in zip(known, goes_left, strict=True) if not g], right, left]
    return [f, [c for c, g in zip(known, goes_left, strict=True) if g], left, right]


def export(clf: Any) -> dict[str, Any]:
    """The ensemble as nested lists (a leaf: its value; a node: ``[feature, threshold or
    left-going categorical codes, left, right]``), one per tree with its role index."""
    cls = [str(c) for c in clf.classes_]
    base = [float(v) for v in clf._baseline_prediction.ravel()]
    cats = clf._preprocessor.named_transformers_["encoder"].categories_
    trees = [
        [ROLES.index(cls[ci]), _node(pred, pred.nodes, 0, cats)]
        for rnd in clf._predictors
        for ci, pred in enumerate(rnd)
    ]
    return {"base": [base[cls.index(r)] if r in cls else -1e9 for r in ROLES], "trees": trees}


def _emit(node: Any, depth: int, acc: str, lines: list[str]) -> None:
    pad = " " * depth
    if not isinstance(node, list):
        lines.append(f"{pad}{acc} += {float(node)!r}")
        return
    feat, test, left, right = node
    if isinstance(test, list):
        lines.append(f"{pad}if x[{int(feat)}] in ({', '.join(repr(float(c)) for c in test)},):")
    else:
        lines.append(f"{pad}if x[{int(feat)}] <= {float(test)!r}:")
    _emit(left, depth + 1, acc, lines)
    lines.append(f"{pad}else:")
    _emit(right, depth + 1, acc, lines)


def compile_trees(spec: dict[str, Any]) -> Any:
    """A pure-Python function of a ``gb_rows`` row: the raw log-odds of T, L, S against B.
    The trees become one function of nested comparisons (source generated from numbers only),
    a few times faster than walking node arrays."""
    b = [float(v) for v in spec["base"]]
    lines = ["def gb(x):", f" a0, a1, a2, a3 = {b[0]!r}, {b[1]!r}, {b[2]!r}, {b[3]!r}"]
    for role, node in spec["trees"]:
        _emit(node, 1, f"a{int(role)}", lines)
    lines.append(" return (a0 - a3, a1 - a3, a2 - a3)")
    ns: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<trees>", "exec"), ns)  # source: numbers and indices
    return ns["gb"]


def speed(args: argparse.Namespace) -> dict[str, Any]:
    """Fit the ensemble on every labelled record, export it, compile it to pure Python, check
    it against scikit-learn, and time per seed-like item (CPU time): the rows, the trees, the
    linear model's scores (``LinearScorer._raw_scores``, the packaged model) and a whole
    ``split_text``."""
    import numpy as np

    from bench.corpus import raw_items
    from streams.text.split import split_text
    from streams.text.split.model import default_scorer

    records = all_records()
    rows = build_items(records, seed=train_split.SEED, variants=train_split.VARIANTS)
    _, ys, _, gbx, _ = dataset(rows, nb=args.nb)
    gx = np.asarray(gbx)
    clf = fit_gb(gx, ys, args)
    spec = export(clf)
    gb = compile_trees(spec)
    raw = clf._raw_predict(gx[:2000])
    cls = [str(c) for c in clf.classes_]
    ib = cls.index("B")
    want = np.stack([raw[:, cls.index(r)] - raw[:, ib] for r in "TLS"], axis=1)
    got = np.asarray([gb(list(r)) for r in gx[:2000]])
    err = float(np.abs(got - want).max())
    texts = [it["content"] for it in raw_items(200)]
    data = [train_split.item_units({"text": t}) for t in texts]
    lin = default_scorer()
    assert isinstance(lin, LinearScorer)

    def cpu(fn: Any, reps: int = 5) -> float:
        best = math.inf
        for _ in range(reps):
            t0 = time.process_time()
            fn()
            best = min(best, time.process_time() - t0)
        return best / len(data) * 1e6

    trows = [[r for r in gb_rows(u, b, t, nb=args.nb) if r is not None] for u, b, t in data]
    out = {
        "trees": len(spec["trees"]),
        "max_abs_err_vs_sklearn": err,
        "model_json_bytes": len(json.dumps(spec)),
        "units_per_item": sum(map(len, trows)) / len(trows),
        "us_per_item_rows": cpu(lambda: [gb_rows(u, b, t, nb=args.nb) for u, b, t in data]),
        "us_per_item_trees": cpu(lambda: [gb(r) for rs in trows for r in rs]),
        "us_per_item_linear_scores": cpu(lambda: [lin._raw_scores(u, b, t) for u, b, t in data]),
        "us_per_item_split_text": cpu(lambda: [split_text(t) for t in texts]),
    }
    for k, v in out.items():
        print(f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.gbdt_split", description=__doc__)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--only-folds", help="comma-separated fold indices to run (default all)")
    ap.add_argument("--variants", default="crf,stack,gbdt,sum")
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--leaf", type=int, default=100)
    ap.add_argument("--inner", type=int, default=3)
    ap.add_argument("--no-nb", dest="nb", action="store_false")
    ap.add_argument("--nbctx", action="store_true")
    ap.add_argument("--leaf-iters", type=int, default=4, help="rounds for the leaves variant")
    ap.add_argument("--leaf-lr", type=float, default=0.3)
    ap.add_argument("--speed", action="store_true", help="fit on all records; time the trees")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    args.variants = args.variants.split(",")
    global NBCTX
    NBCTX = args.nbctx
    if args.speed:
        res = speed(args)
        if args.json:
            write_results(
                args.json, {"args": {k: v for k, v in vars(args).items() if k != "json"}, **res}
            )
        return 0
    only = {int(x) for x in args.only_folds.split(",")} if args.only_folds else None
    records = all_records()
    accs: dict[str, dict[str, Any]] = {v: {} for v in args.variants}
    per_fold: dict[str, list[dict[str, Any]]] = {v: [] for v in args.variants}
    for fi, (fit_idx, held_idx) in enumerate(iter_fold_splits(records, args.folds)):
        if only is not None and fi not in only:
            continue
        t0 = time.perf_counter()
        held = [records[i] for i in held_idx]
        items = build_items(held, held, seed=lso_split.EVAL_SEED)
        fitted = fit_fold([records[i] for i in fit_idx], args)
        line = [f"fold {fi}: fit {time.perf_counter() - t0:.0f}s (gb {fitted['gb_fit_s']:.1f}s)"]
        for key in ("stack_w", "stack2_w"):
            if key not in fitted:
                continue
            line.append(
                key
                + " "
                + " ".join(f"{w[0]:.2f}/{w[1]:.2f}/{w[2]:.2f}/{w[3]:.2f}" for w in fitted[key])
            )
        for v, sc in scorers(fitted, args).items():
            res = eval_split.evaluate(items, lso_split._splitter(sc))
            lso_split._add(accs[v], res)
            per_fold[v].append(res["all"])
            line.append(f"{v} {res['all']['lead']['f1']:.3f}/{res['all']['teasers']['f1']:.3f}")
        print(" | ".join(line), flush=True)
    out: dict[str, Any] = {"args": {k: v for k, v in vars(args).items() if k != "json"}}
    for v in args.variants:
        r = lso_split._final(accs[v])
        r["folds"] = [
            {"lead_f1": x["lead"]["f1"], "teasers_f1": x["teasers"]["f1"]} for x in per_fold[v]
        ]
        out[v] = r
        for kind in ("all", "text", "html"):
            if kind in r:
                print(lso_split.fmt(f"{v}:{kind}"[:11], r[kind]))
        fl = " ".join(f"{x['lead_f1']:.3f}" for x in r["folds"])
        ft = " ".join(f"{x['teasers_f1']:.3f}" for x in r["folds"])
        print(f"  {v} per fold: lead F1 {fl}, teasers F1 {ft}")
    if args.json:
        write_results(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
