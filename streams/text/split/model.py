"""Scorers of paragraph roles and the constrained decode that turns scores into a split.

A :class:`Scorer` gives the final role of each unit (T title, L lead, S teaser, B boilerplate)
after the rules prepared them. Two implementations:

* :class:`HandScorer`: today's hand rules and hand-set weights (one cut point), as they were;
* :class:`LinearScorer`: a multinomial logistic regression over ``features.unit_features``
  plus role-transition scores, read from ``model.json`` in this package (trained by
  ``python -m bench.train_split``; pure-Python inference, no runtime dependency).

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
from typing import Any, Protocol

from streams.text.html import Block

from . import rules as R
from .features import ROLES, Feats, text_feats, unit_features

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
    # state -> role: 0 T, 1 L, 2 S, 3 B (closed), 4 B (open: no T/L/S yet)
    role = (0, 1, 2, 3, 3)
    s0 = scores[0]
    best = [start[0] + s0[0], start[1] + s0[1], start[2] + s0[2], _NEG, start[3] + s0[3]]
    back: list[tuple[int, ...]] = []
    for i in range(1, n):
        s = scores[i]
        nb = [_NEG] * 5
        bp = [0] * 5
        for st in range(5):
            r = role[st]
            if st == 0:  # title: only from the open prefix
                nb[0], bp[0] = best[4] + trans[3][0] + s[0], 4
                continue
            if st == 4:
                nb[4], bp[4] = best[4] + trans[3][3] + s[3], 4
                continue
            bv, bj = _NEG, 0
            for prev in range(5):
                v = best[prev] + trans[role[prev]][r]
                if v > bv:
                    bv, bj = v, prev
            nb[st], bp[st] = bv + s[r], bj
        back.append(tuple(bp))
        best = nb
    st = max(range(5), key=best.__getitem__)
    out = [role[st]]
    for i in range(n - 2, -1, -1):
        st = back[i][st]
        out.append(role[st])
    out.reverse()
    return out


class LinearScorer:
    """Multinomial logistic regression over sparse features + transition scores + decode."""

    name = "model"

    def __init__(self, model: dict[str, Any]) -> None:
        self.weights: dict[str, list[float]] = model["weights"]
        self.bias: list[float] = model["bias"]
        tw = float(model.get("trans_weight", 1.0))
        self.trans: list[list[float]] = [[tw * x for x in row] for row in model["trans"]]
        self.start: list[float] = [tw * x for x in model["start"]]
        self.meta: dict[str, Any] = model.get("meta", {})

    def _dot(self, fs: Feats, acc: list[float]) -> None:
        w = self.weights
        for name, v in fs:
            ws = w.get(name)
            if ws is not None:
                acc[0] += ws[0] * v
                acc[1] += ws[1] * v
                acc[2] += ws[2] * v
                acc[3] += ws[3] * v

    def unit_scores(
        self, units: Sequence[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> list[list[float] | None]:
        """Log-probabilities of the four roles per unit (None: role fixed by a rule). The
        context-free part of a paragraph's score is memoised on its facts (teasers and page
        furniture repeat from page to page)."""
        out: list[list[float] | None] = []
        exp, log = math.exp, math.log
        bias = self.bias
        feats = unit_features(units, blocks, title, with_text=False)
        for u, fs in zip(units, feats, strict=True):
            if fs is None:
                out.append(None)
                continue
            f = u.f
            ms = f.mscore
            if ms is None or ms[0] is not self:
                static = [0.0, 0.0, 0.0, 0.0]
                self._dot(text_feats(f), static)
                f.mscore = ms = (self, static)
            st = ms[1]
            acc = [bias[0] + st[0], bias[1] + st[1], bias[2] + st[2], bias[3] + st[3]]
            self._dot(fs, acc)
            a, b, c, d = acc
            m = max(acc)
            z = m + log(exp(a - m) + exp(b - m) + exp(c - m) + exp(d - m))
            out.append([a - z, b - z, c - z, d - z])
        return out

    def assign(
        self, units: list[R._Unit], blocks: Sequence[Block] | None, title: str | None
    ) -> None:
        scores = self.unit_scores(units, blocks, title)
        # Units whose role a rule fixed for good keep it and are transparent to the decode
        # (as in the hand cut search): a lead run goes on after an inline "Read also" line.
        free = [i for i, sc in enumerate(scores) if sc is not None]
        roles = decode([sc for sc in scores if sc is not None], self.trans, self.start)
        for i, r in zip(free, roles, strict=True):
            units[i].role = ROLES[r]


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
