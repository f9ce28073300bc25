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
* ``kw:<theme>``: the keyword tagger's own verdict for the theme (taxonomy.yaml), value 1. The
  curated keyword lists carry knowledge a few hundred labelled texts cannot; the model learns
  how far to trust each.

Model file ``topics_model.json`` (package data, read lazily once): per theme a bias, a decision
threshold (chosen by cross-validation inside the training data) and sparse weights. Inference is
a dict lookup per distinct stem: pure Python, no I/O after the first load, deterministic.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

__all__ = ["MODEL_NAME", "TopicModel", "classify", "default_model", "features", "scores"]

MODEL_NAME = "topics_model.json"
KW_PREFIX = "kw:"
TITLE_PREFIX = "t:"
_MIN_WORD = 3  # shorter words (prepositions, "і", "в") carry no theme


def _normalize(text: str) -> str:
    # lazy: tag.py calls into this module from tag(), so a top-level import would be circular
    from streams.text.tag import normalize_for_tagging

    return normalize_for_tagging(text)


def stems(text: str, stem_len: int) -> set[str]:
    """Distinct word stems of text: letters-only words of >= 3 chars, cut to stem_len."""
    if not isinstance(text, str) or not text:
        return set()
    out: set[str] = set()
    for w in _normalize(text).split():
        if len(w) >= _MIN_WORD and w.isalpha():
            out.add(w[:stem_len])
        elif len(w) >= _MIN_WORD and "'" in w:  # uk apostrophe: "об'єкт", "м'яч"
            w = w.strip("'")
            if w.replace("'", "").isalpha():
                out.add(w[:stem_len])
    return out


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
    the headline says what the story is mainly about."""
    out: dict[str, float] = {}
    st = stems(text, stem_len)
    if st:
        out = dict.fromkeys(st, 1.0 / math.sqrt(len(st)))
        if title_weight > 0:
            tst = stems(text.lstrip().split("\n", 1)[0], stem_len)
            if tst:
                v = title_weight / math.sqrt(len(tst))
                for s in tst:
                    out[TITLE_PREFIX + s] = v
    for t in keyword_themes:
        out[KW_PREFIX + t] = kw_value
    return out


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

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TopicModel:
        themes = tuple(str(t) for t in data["themes"])
        index = {t: i for i, t in enumerate(themes)}
        by_feat: dict[str, list[tuple[int, float]]] = {}
        for theme, ws in data["weights"].items():
            i = index[theme]
            for feat, w in ws.items():
                by_feat.setdefault(str(feat), []).append((i, float(w)))
        model = cls(
            themes=themes,
            stem_len=int(data["stem_len"]),
            kw_value=float(data.get("kw_value", 1.0)),
            title_weight=float(data.get("title_weight", 0.0)),
            max_themes=int(data.get("max_themes", 0)),
            backoff=float(data.get("backoff", 0.0)),
            bias=tuple(float(data["bias"][t]) for t in themes),
            threshold=tuple(float(data["threshold"][t]) for t in themes),
            weights={f: tuple(sorted(v)) for f, v in sorted(by_feat.items())},
            meta=dict(data.get("meta") or {}),
        )
        if not (len(model.bias) == len(model.threshold) == len(themes)):
            raise ValueError("topic model: bias/threshold do not match the themes")
        return model

    def _features(self, text: str, keyword_themes: Iterable[str]) -> dict[str, float]:
        return features(
            text,
            self.stem_len,
            keyword_themes,
            kw_value=self.kw_value,
            title_weight=self.title_weight,
        )

    def _scores(self, feats: Mapping[str, float]) -> list[float]:
        out = list(self.bias)
        weights = self.weights
        for f, v in feats.items():
            got = weights.get(f)
            if got is not None:
                for i, w in got:
                    out[i] += w * v
        return out

    def scores(self, text: str, keyword_themes: Iterable[str] = ()) -> list[float]:
        """Decision scores (log-odds), one per theme in ``self.themes`` order."""
        if not isinstance(text, str):
            return list(self.bias)
        return self._scores(self._features(text, keyword_themes))

    def coverage(self, feats: Mapping[str, float]) -> float:
        """Share of a text's stems the model has a weight for (1.0 for a text without stems)."""
        st = [f for f in feats if ":" not in f]
        return sum(f in self.weights for f in st) / len(st) if st else 1.0

    def classify(self, text: str, keyword_themes: Sequence[str] = ()) -> list[str]:
        """Theme ids of text (model order = taxonomy order). Never raises on any str.

        Back-off: where the model knows under ``backoff`` of the words (a language or a field
        the labelled data hardly has: English is 6 % of it), the keyword verdicts are added,
        so such text keeps at least what the keyword tagger gave it.
        """
        if not isinstance(text, str) or not text.strip():
            return []
        feats = self._features(text, keyword_themes)
        got = self.decide(self._scores(feats))
        if self.backoff > 0 and keyword_themes and self.coverage(feats) < self.backoff:
            extra = set(got) | set(keyword_themes)
            got = [t for t in self.themes if t in extra]
        return got

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
