"""Split a scraped news item into title, lead (the story itself), teasers (ledes of OTHER
stories) and boilerplate.

Pipeline (all pure functions of the input; every output string is an input paragraph, or for a
"Читайте також: <headline>" HTML block the headline part of it):

1. ``rules.prepare``: paragraphs, and the roles rules fix (title candidate, "Read also" markers,
   page furniture, link lists, repeats) - ``rules`` holds the uk/ru/en lexicon and patterns;
2. ``rules._assign``: the hand-weighted one-cut search (lead before, teasers after), which also
   computes the cohesion facts the features use;
3. a :class:`~streams.text.split.model.Scorer` gives the final roles: the trained model
   (``model.json``, a linear-chain CRF over ``features.py`` with a constrained Viterbi
   decode, see ``model.py``) by default, or the hand rules as they were (``scorer=HandScorer()``);
4. ``rules._finish`` assembles the :class:`SplitResult`.
"""

from __future__ import annotations

from collections.abc import Sequence

from streams.text.html import Block, html_blocks

from . import rules
from .model import HandScorer, LinearScorer, Scorer, default_scorer
from .rules import SplitResult, Teaser, clear_memo

__all__ = [
    "HandScorer",
    "LinearScorer",
    "Scorer",
    "SplitResult",
    "Teaser",
    "clear_memo",
    "split",
    "split_blocks",
    "split_html",
    "split_text",
]


def split_blocks(
    texts: Sequence[str], blocks: Sequence[Block] | None, scorer: Scorer | None = None
) -> SplitResult:
    """Split paragraphs (``blocks``: their HTML facts, or None for plain text)."""
    sc = scorer if scorer is not None else default_scorer()
    units, title, title_stems = rules.prepare(texts, blocks)
    hand = isinstance(sc, HandScorer)
    rules._assign(units, title_stems, stop_at_hard=hand)
    if not hand:
        sc.assign(units, blocks, title)
        title = next((u.text for u in units if u.role == "T"), None)
    return rules._finish(units, title)


def split_text(text: str, *, scorer: Scorer | None = None) -> SplitResult:
    """Split plain text whose paragraphs are newline-separated lines."""
    lines = [rules._norm(line) for line in (text or "").splitlines()]
    return split_blocks([ln for ln in lines if ln], None, scorer)


def split_html(html: str, *, scorer: Scorer | None = None) -> SplitResult:
    """Split an HTML fragment (paragraphs, headings, <br> lines, lists of links, captions)."""
    blocks = html_blocks(html or "")
    return split_blocks([b.text for b in blocks], blocks, scorer)


def split(
    text: str | None = None, *, html: str | None = None, scorer: Scorer | None = None
) -> SplitResult:
    """Split either plain `text` or `html` (exactly one of them must be given).

    A whole HTML page (``<html>``/``<body>``, as a browser fetches it) goes to the page
    extractor (``streams.text.page``), which finds the article region first.
    """
    if (text is None) == (html is None):
        raise ValueError("pass exactly one of text= or html=")
    if text is not None:
        return split_text(text, scorer=scorer)
    from streams.text.page import is_whole_page, split_page  # local: page.py imports this

    if is_whole_page(html or ""):
        return split_page(html or "")
    return split_html(html or "", scorer=scorer)
