"""Scorers of paragraph roles and the constrained decode that turns scores into a split.

A :class:`Scorer` gives the final role of each unit (T title, L lead, S teaser, B boilerplate)
after the rules prepared them. Two implementations:

* :class:`HandScorer`: today's hand rules and hand-set weights (one cut point), as they were;
* :class:`LinearScorer`: linear role scores over ``features.unit_features`` plus
  role-transition scores, read from ``model.json`` in this package (trained by
  ``python -m bench.train_split``: a linear-chain CRF, or a multinomial logistic regression
  with counted transitions; pure-Python inference, no runtime dependency).

The decode (:func:`decode`) is a Viterbi search over role sequences under the page grammar:
at most one title, only before any lead or teaser; lead runs, teaser runs and boilerplate
anywhere, scored by the per-unit scores plus the learned transition scores.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from functools import cache
from importlib import resources
from operator import mul
from typing import Any, Protocol

from streams.text.html import Block

from . import rules as R
from .features import DENSE, ROLES, CatKey, cat_names, context_features, text_feats

__all__ = ["HandScorer", "LinearScorer", "Scorer", "decode", "default_scorer", "load_model"]

MODEL_FILE = "model.json"
_NEG = -1e9


class Scorer(Protocol):
    """Assigns the final roles of ``units`` (prepared and cut-searched by the rules)."""

    name: str

    def assign(
        self, units: list[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> None: ...


class HandScorer:
    """Today's splitter: the roles the rules and the hand-weighted cut search gave."""

    name = "hand"

    def assign(
        self, units: list[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> None:
        return None


def _best(a: float, b: float, c: float, d: float, e: float) -> tuple[float, int]:
    """The largest of five scores and its index (the first on ties)."""
    v, j = a, 0
    if b > v:
        v, j = b, 1
    if c > v:
        v, j = c, 2
    if d > v:
        v, j = d, 3
    if e > v:
        v, j = e, 4
    return v, j


def decode(
    scores: Sequence[Sequence[float]],
    trans: Sequence[Sequence[float]],
    start: Sequence[float],
) -> list[int]:
    """Best role sequence (indices into ``ROLES``: T, L, S, B) by Viterbi: unit scores plus
    transition scores, under the page grammar: a title (T) only while nothing but boilerplate
    came before it, at most once. Five states: T, L, S, B after the page opened, B before it.
    """
    n = len(scores)
    if not n:
        return []
    # state -> role: 0 T, 1 L, 2 S, 3 B (closed), 4 B (open: no T/L/S yet). Ties go to the
    # lower state index, as a scan in state order would.
    role = (0, 1, 2, 3, 3)
    s0 = scores[0]
    p0, p1, p2 = start[0] + s0[0], start[1] + s0[1], start[2] + s0[2]
    p3, p4 = _NEG, start[3] + s0[3]
    t0, t1, t2, t3 = trans
    back: list[tuple[int, int, int]] = []
    for i in range(1, n):
        s = scores[i]
        # lead, teaser and closed boilerplate: from any state (open B moves like closed B)
        n1, j1 = _best(p0 + t0[1], p1 + t1[1], p2 + t2[1], p3 + t3[1], p4 + t3[1])
        n2, j2 = _best(p0 + t0[2], p1 + t1[2], p2 + t2[2], p3 + t3[2], p4 + t3[2])
        n3, j3 = _best(p0 + t0[3], p1 + t1[3], p2 + t2[3], p3 + t3[3], p4 + t3[3])
        # title and open boilerplate: only from the open prefix
        p0, p4 = p4 + t3[0] + s[0], p4 + t3[3] + s[3]
        p1, p2, p3 = n1 + s[1], n2 + s[2], n3 + s[3]
        back.append((j1, j2, j3))
    best = (p0, p1, p2, p3, p4)
    st = max(range(5), key=best.__getitem__)
    out = [role[st]]
    for i in range(n - 2, -1, -1):
        st = back[i][st - 1] if 1 <= st <= 3 else 4  # T and open B: only after open B
        out.append(role[st])
    out.reverse()
    return out


class LinearScorer:
    """Linear role scores over sparse features + transition scores + decode (a linear-chain
    CRF's, or a logistic regression's with counted transitions: the same form)."""

    name = "model"

    def __init__(self, model: dict[str, Any]) -> None:
        # A softmax, and the decode, are unchanged when the same amount is added to the four
        # role scores of a unit, so the weights are kept relative to boilerplate's (B scores
        # 0): three products per feature instead of four.
        self.weights: dict[str, tuple[float, float, float]] = {
            k: (float(v[0]) - float(v[3]), float(v[1]) - float(v[3]), float(v[2]) - float(v[3]))
            for k, v in model["weights"].items()
        }
        # One column per role over the dense context features (0 for a feature left out).
        zero = (0.0, 0.0, 0.0)
        rows = [self.weights.get(name, zero) for name in DENSE]
        self.cols: tuple[list[float], ...] = tuple([r[j] for r in rows] for j in range(3))
        # Summed weights of the categorical features per context key (a small space).
        self._catw: dict[CatKey, tuple[float, float, float]] = {}
        b = [float(x) for x in model["bias"]]
        self.bias: tuple[float, float, float] = (b[0] - b[3], b[1] - b[3], b[2] - b[3])
        tw = float(model.get("trans_weight", 1.0))
        self.trans: list[list[float]] = [[tw * x for x in row] for row in model["trans"]]
        self.start: list[float] = [tw * x for x in model["start"]]
        self.meta: dict[str, Any] = model.get("meta", {})

    def _cat_weights(self, key: CatKey) -> tuple[float, float, float]:
        a0 = a1 = a2 = 0.0
        for name in cat_names(key):
            ws = self.weights.get(name)
            if ws is not None:
                a0 += ws[0]
                a1 += ws[1]
                a2 += ws[2]
        return (a0, a1, a2)

    def _raw_scores(
        self, units: Sequence[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> list[tuple[float, float, float, float] | None]:
        """Linear scores of the four roles per unit, relative to boilerplate's (None: role fixed
        by a rule). The
        context-free part of a paragraph's score is memoised on its facts (teasers and page
        furniture repeat from page to page)."""
        get = self.weights.get
        b0, b1, b2 = self.bias
        c0, c1, c2 = self.cols
        catw = self._catw
        out: list[tuple[float, float, float, float] | None] = []
        for u, cf in zip(units, context_features(units, blocks, title), strict=True):
            if cf is None:
                out.append(None)
                continue
            f = u.f
            ms = f.mscore
            if ms is None or ms[0] is not self:
                s0 = s1 = s2 = 0.0
                for name, v in text_feats(f):
                    ws = get(name)
                    if ws is not None:
                        w0, w1, w2 = ws
                        s0 += w0 * v
                        s1 += w1 * v
                        s2 += w2 * v
                f.mscore = ms = (self, (s0, s1, s2))
            a0, a1, a2 = ms[1]
            dense, key = cf
            cw = catw.get(key)
            if cw is None:
                cw = catw[key] = self._cat_weights(key)
            a0 += b0 + cw[0] + sum(map(mul, dense, c0))
            a1 += b1 + cw[1] + sum(map(mul, dense, c1))
            a2 += b2 + cw[2] + sum(map(mul, dense, c2))
            out.append((a0, a1, a2, 0.0))
        return out

    def unit_scores(
        self, units: Sequence[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> list[list[float] | None]:
        """Log-probabilities of the four roles per unit (None: role fixed by a rule)."""
        exp, log = math.exp, math.log
        out: list[list[float] | None] = []
        for acc in self._raw_scores(units, blocks, title):
            if acc is None:
                out.append(None)
                continue
            a, b, c, d = acc
            m = max(acc)
            z = m + log(exp(a - m) + exp(b - m) + exp(c - m) + exp(d - m))
            out.append([a - z, b - z, c - z, d - z])
        return out

    def assign(
        self, units: list[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> None:
        # The decode takes the raw linear scores: every role sequence passes through one role
        # per unit, so the per-unit normaliser of the log-probabilities cannot change the best
        # sequence (it only costs an exp and a log per role).
        scores = self._raw_scores(units, blocks, title)
        # Units whose role a rule fixed for good keep it and are transparent to the decode
        # (as in the hand cut search): a lead run goes on after an inline "Read also" line.
        free = [i for i, sc in enumerate(scores) if sc is not None]
        roles = decode([sc for sc in scores if sc is not None], self.trans, self.start)
        for i, r in zip(free, roles, strict=True):
            units[i].role = ROLES[r]
        if free and all(u.role == "B" for u in units):
            # A news item is never all furniture: a one-paragraph item the model scores as
            # boilerplate keeps its likeliest story paragraph as the lead.
            lead_scores = [sc[1] for sc in scores if sc is not None]  # in the order of `free`
            units[free[lead_scores.index(max(lead_scores))]].role = "L"


def load_model(text: str) -> LinearScorer:
    return LinearScorer(json.loads(text))


@cache
def default_scorer() -> Scorer:
    """The packaged trained model (read once, lazily); the hand rules when it is absent."""
    try:
        data = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return HandScorer()
    return load_model(data)
