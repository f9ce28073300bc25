"""Theme tags (war, diplomacy, … corruption) from a measured linear classifier.

Why a classifier: keywords say what a text *mentions*; a theme says what it is mainly *about*. A
sanctions story names a war, a war story names gas: keyword thresholds (tag.py's ``min_score``)
either miss the story or fire on the mention. One logistic regression per theme, trained on
labelled title + lead texts (``python -m bench.train_topics``), weighs all the words at once.

Features, the same at training and run time (``features``):

* stems: every word of ``normalize_for_tagging(text)`` cut to its first ``stem_len`` letters
  (Ukrainian and Russian inflect at the end, so a prefix joins "санкції/санкцій/санкціями" the
  way a lemmatiser would, at the cost of a slice; no pymorphy3 at run time). The vector is
  binary over distinct stems, L2-normalised, so a long lead does not outvote a short one.
* ``t:<stem>``: the stems of the first line (the headline) again, as a second L2-normalised
  vector of length ``title_weight``: the headline says what the story is mainly about.
* ``kw:<theme>``: the keyword tagger's own verdict for the theme (taxonomy.yaml), value
  ``kw_value``. The curated keyword lists carry knowledge a few hundred labelled texts cannot;
  the model learns how far to trust each (a small value keeps it from leaning on them alone).

At most ``max_themes`` themes are given (the largest margins over the thresholds), and where the
model knows few of a text's stems the keyword verdicts are added (``TopicModel.classify``).

Model file ``topics_model.json`` (package data, read lazily once): per theme a bias, a decision
threshold (chosen by cross-validation inside the training data) and sparse weights. Inference is
one dict lookup per distinct stem, summed as packed integers (``_pack``): pure Python, no I/O
after the first load, deterministic.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

__all__ = ["MODEL_NAME", "TopicModel", "classify", "default_model", "features", "scores"]

MODEL_NAME = "topics_model.json"
KW_PREFIX = "kw:"
TITLE_PREFIX = "t:"
_MIN_WORD = 3  # shorter words (prepositions, "і", "в") carry no theme
# texts -> themes kept (cleared when full): the same teaser recurs in hundreds of items
_MEMO = 8192


def _normalize(text: str) -> str:
    # lazy: tag.py calls into this module from tag(), so a top-level import would be circular
    from streams.text.tag import normalize_for_tagging

    return normalize_for_tagging(text)


def _stem_set(low: str, stem_len: int) -> set[str]:
    """Stems of normalised text: letters-only words of >= 3 chars, cut to stem_len."""
    words = low.split()
    out = {w[:stem_len] for w in words if len(w) >= _MIN_WORD and w.isalpha()}
    if "'" in low:  # uk apostrophe: "об'єкт", "м'яч"
        for w in words:
            if "'" in w:
                w = w.strip("'")
                if len(w) >= _MIN_WORD and w.replace("'", "").isalpha():
                    out.add(w[:stem_len])
    return out


def stem_sets(text: str, stem_len: int, *, title: bool = True) -> tuple[set[str], set[str]]:
    """(stems of the whole text, stems of its first non-blank line); one normalisation, since
    normalize_for_tagging keeps offsets."""
    if not isinstance(text, str) or not text:
        return set(), set()
    low = _normalize(text)
    st = _stem_set(low, stem_len)
    if not title or not st:
        return st, set()
    start = len(text) - len(text.lstrip())
    end = text.find("\n", start)
    if end < 0:  # one line: the title is the whole text (the same set, no second pass)
        return st, st
    return st, _stem_set(low[start:end], stem_len)


def stems(text: str, stem_len: int) -> set[str]:
    """Distinct word stems of text (see _stem_set)."""
    return stem_sets(text, stem_len, title=False)[0]


def features(
    text: str,
    stem_len: int,
    keyword_themes: Iterable[str] = (),
    *,
    kw_value: float = 1.0,
    title_weight: float = 0.0,
) -> dict[str, float]:
    """The feature vector of a text: L2-normalised binary stems, ``kw:<theme>`` = kw_value, and
    (title_weight > 0) the first line's stems again as ``t:<stem>``, L2-normalised and scaled:
    the headline says what the story is mainly about. (Training uses this; TopicModel.scores
    computes the same dot product faster.)"""
    out: dict[str, float] = {}
    st, tst = stem_sets(text, stem_len, title=title_weight > 0)
    if st:
        out = dict.fromkeys(st, 1.0 / math.sqrt(len(st)))
    if tst:
        v = title_weight / math.sqrt(len(tst))
        for s in tst:
            out[TITLE_PREFIX + s] = v
    for t in keyword_themes:
        out[KW_PREFIX + t] = kw_value
    return out


# Packed weights: a feature's weights for all themes as ONE Python int, a field of _BITS bits per
# theme holding round(w * _SCALE) + _OFFSET, and a count field above them holding 1. Summing
# the ints of a text's stems (sum(map(dict.get, ...)), a C loop) sums every theme's weights at
# once and counts the matches; fields cannot carry into each other below 2**(_BITS - 21) stems.
# Exact: the model file's weights have 3 decimals.
_SCALE = 1000
_OFFSET = 1 << 20  # |w| < 1000
_BITS = 52
_MASK = (1 << _BITS) - 1


def _pack(ws: Sequence[float]) -> int:
    n = 0
    for i, w in enumerate(ws):
        q = round(w * _SCALE)
        if not -_OFFSET < q < _OFFSET:
            raise ValueError(f"topic model weight {w} out of range")
        n |= (q + _OFFSET) << (i * _BITS)
    return n | (1 << (len(ws) * _BITS))


@dataclass(frozen=True)
class TopicModel:
    """Per-theme linear scores over ``features``; a theme is given when its score >= threshold."""

    themes: tuple[str, ...]
    stem_len: int
    kw_value: float
    title_weight: float
    max_themes: int  # at most this many themes, by margin over the threshold (0: no cap)
    backoff: float  # below this coverage the keyword themes are added (0: never)
    bias: tuple[float, ...]
    threshold: tuple[float, ...]
    weights: Mapping[str, tuple[tuple[int, float], ...]]  # feature -> ((theme index, w), ...)
    meta: Mapping[str, Any]
    packed: Mapping[str, int] = field(default_factory=dict)  # stem -> packed weights
    packed_title: Mapping[str, int] = field(default_factory=dict)  # title stem -> packed
    # one-line text (a teaser): title stems = stems, so stem and title weights add up in one table
    packed_line: Mapping[str, int] = field(default_factory=dict)
    memo: dict[tuple[str, tuple[str, ...]], list[str]] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TopicModel:
        themes = tuple(str(t) for t in data["themes"])
        index = {t: i for i, t in enumerate(themes)}
        by_feat: dict[str, list[tuple[int, float]]] = {}
        for theme, ws in data["weights"].items():
            i = index[theme]
            for feat, w in ws.items():
                by_feat.setdefault(str(feat), []).append((i, float(w)))
        tw = float(data.get("title_weight", 0.0))
        dense: dict[str, list[float]] = {}
        dense_title: dict[str, list[float]] = {}
        for feat, got in by_feat.items():
            if feat.startswith(KW_PREFIX):
                continue
            title = feat.startswith(TITLE_PREFIX)
            row = (dense_title if title else dense).setdefault(
                feat[len(TITLE_PREFIX) :] if title else feat, [0.0] * len(themes)
            )
            for i, w in got:
                row[i] = w
        zero = [0.0] * len(themes)
        packed_line = {
            s: _pack(
                [
                    a + tw * b
                    for a, b in zip(dense.get(s, zero), dense_title.get(s, zero), strict=True)
                ]
            )
            for s in dense.keys() | dense_title.keys()
        }
        model = cls(
            themes=themes,
            stem_len=int(data["stem_len"]),
            kw_value=float(data.get("kw_value", 1.0)),
            title_weight=tw,
            max_themes=int(data.get("max_themes", 0)),
            backoff=float(data.get("backoff", 0.0)),
            bias=tuple(float(data["bias"][t]) for t in themes),
            threshold=tuple(float(data["threshold"][t]) for t in themes),
            weights={f: tuple(sorted(v)) for f, v in sorted(by_feat.items())},
            meta=dict(data.get("meta") or {}),
            packed={s: _pack(ws) for s, ws in dense.items()},
            packed_title={s: _pack(ws) for s, ws in dense_title.items()},
            packed_line=packed_line,
        )
        if not (len(model.bias) == len(model.threshold) == len(themes)):
            raise ValueError("topic model: bias/threshold do not match the themes")
        return model

    def reference_scores(self, text: str, keyword_themes: Iterable[str] = ()) -> list[float]:
        """scores() the plain way (a dict lookup per feature of ``features``): for tests."""
        out = list(self.bias)
        feats = features(
            text,
            self.stem_len,
            keyword_themes,
            kw_value=self.kw_value,
            title_weight=self.title_weight,
        )
        for f, v in feats.items():
            for i, w in self.weights.get(f, ()):
                out[i] += w * v
        return out

    def _scores(self, text: str, keyword_themes: Iterable[str]) -> tuple[list[float], float]:
        """(scores, coverage): the dot product of ``features`` with the weights, by packed sums."""
        out = list(self.bias)
        coverage = 1.0
        tw = self.title_weight
        st, tst = stem_sets(text, self.stem_len, title=tw > 0)
        if st and tst is st:  # one line: stem and title weights in one table
            groups = [(st, self.packed_line, 1.0, True)]
        else:
            groups = [(st, self.packed, 1.0, True), (tst, self.packed_title, tw, False)]
        n = len(out)
        for group, table, length, main in groups:
            if not group:
                continue
            total = sum(map(table.get, group, itertools.repeat(0)))
            count = total >> (n * _BITS)
            if main:
                coverage = count / len(group)
            if not count:
                continue
            v = length / math.sqrt(len(group)) / _SCALE
            off = count * _OFFSET
            for i in range(n):
                out[i] += (((total >> (i * _BITS)) & _MASK) - off) * v
        kw = self.kw_value
        for t in keyword_themes:
            for i, w in self.weights.get(KW_PREFIX + t, ()):
                out[i] += w * kw
        return out, coverage

    def scores(self, text: str, keyword_themes: Iterable[str] = ()) -> list[float]:
        """Decision scores (log-odds), one per theme in ``self.themes`` order."""
        if not isinstance(text, str):
            return list(self.bias)
        return self._scores(text, keyword_themes)[0]

    def classify(self, text: str, keyword_themes: Sequence[str] = ()) -> list[str]:
        """Theme ids of text (model order = taxonomy order). Never raises on any str.

        Back-off: where the model knows under ``backoff`` of the text's stems (a language or a
        field the labelled data hardly has: English is 6 % of it), the keyword verdicts are
        added, so such text keeps at least what the keyword tagger gave it.
        """
        if not isinstance(text, str) or not text.strip():
            return []
        key = (text, tuple(keyword_themes))
        memo = self.memo
        got = memo.get(key)
        if got is None:
            sc, coverage = self._scores(text, keyword_themes)
            got = self.decide(sc)
            if self.backoff > 0 and keyword_themes and coverage < self.backoff:
                extra = set(got) | set(keyword_themes)
                got = [t for t in self.themes if t in extra]
            if len(memo) >= _MEMO:
                memo.clear()
            memo[key] = got
        return list(got)

    def decide(self, scores: Sequence[float]) -> list[str]:
        """Themes whose score reaches their threshold; the max_themes largest margins of them."""
        hits = [(s - th, i) for i, (s, th) in enumerate(zip(scores, self.threshold, strict=True))]
        hits = [h for h in hits if h[0] >= 0]
        if self.max_themes and len(hits) > self.max_themes:
            hits = sorted(hits, key=lambda h: (-h[0], h[1]))[: self.max_themes]
        return [self.themes[i] for _m, i in sorted(hits, key=lambda h: h[1])]


@functools.cache
def default_model() -> TopicModel:
    """The packaged model, loaded on first use and kept."""
    raw = resources.files("streams.text").joinpath(MODEL_NAME).read_text(encoding="utf-8")
    return TopicModel.from_dict(json.loads(raw))


def classify(text: str, keyword_themes: Sequence[str] = ()) -> list[str]:
    """Theme ids of text by the packaged model; keyword_themes: the keyword tagger's themes."""
    return default_model().classify(text, keyword_themes)


def scores(text: str, keyword_themes: Sequence[str] = ()) -> dict[str, float]:
    """Theme -> decision score by the packaged model (for analysis and tests)."""
    m = default_model()
    return dict(zip(m.themes, m.scores(text, keyword_themes), strict=True))
