"""One normalisation for everything that compares text.

Feeds re-publish the same paragraph with cosmetic differences: typographic vs. ASCII quotes
and apostrophes (``’ ʼ '`` all occur in Ukrainian), different dashes, doubled spaces, NBSP, soft
hyphens, and a trailing ``…`` when a teaser is cut. Every comparison (exact fingerprint,
near-duplicate signature, tagging) goes through :func:`normalize`, so they never reach a hash.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_truncated", "normalize", "tokens"]

_APOSTROPHES = "\u2019\u02bc'`\u2018"  # ’ ʼ ' ` ‘
_QUOTES = '\u00ab\u00bb\u201e\u201c\u201d"'  # « » „ “ ” "
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015"  # ‐ ‑ ‒ – — ―
# Invisible characters that split words without being whitespace: soft hyphen, zero-width
# space/joiners, word joiner, BOM.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"

_REPLACE = (
    *((c, "'") for c in _APOSTROPHES if c != "'"),
    *((c, '"') for c in _QUOTES if c != '"'),
    *((c, "-") for c in _DASHES),
)
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def _fold(text: str) -> str:
    # NFKC -> casefold -> NFKC approximates NFKC_Casefold; the fixed-point loop makes it
    # idempotent for exotic characters. is_normalized() is a fast quick-check that skips the
    # expensive normalisation for the usual, already composed, text.
    # The usual compatibility characters in news text are handled by hand so the quick-check
    # below passes and the (slow) full NFKC is skipped.
    if "\u2026" in text:
        text = text.replace("\u2026", "...")
    if "\u00a0" in text:
        text = text.replace("\u00a0", " ")
    prev = text
    for _ in range(4):
        cur = (
            prev if unicodedata.is_normalized("NFKC", prev) else unicodedata.normalize("NFKC", prev)
        )
        cur = cur.casefold()
        if not unicodedata.is_normalized("NFKC", cur):
            cur = unicodedata.normalize("NFKC", cur)
        if cur == prev:
            break
        prev = cur
    return prev


def _canon(text: str) -> str:
    # str.replace per character (skipped when absent) is several times faster than str.translate
    # with a dict on non-ASCII text.
    for c in _INVISIBLE:  # before the fold: removing them can join a letter and a combining mark
        if c in text:
            text = text.replace(c, "")
    out = _fold(text)
    # Targets are ASCII punctuation: they neither compose nor case-fold, so no second fold needed.
    for src, dst in _REPLACE:
        if src in out:
            out = out.replace(src, dst)
    out = " ".join(out.split())
    # NFKC already turned "…" into "...": strip every trailing run ("a... ..." too).
    while out.endswith("..."):
        out = out.rstrip(".").rstrip()
    return out


def normalize(text: str) -> str:
    """Return the canonical form of *text* used by every comparison in the text core.

    Unicode NFKC + casefold, one apostrophe, one double quote, one dash, whitespace collapsed and
    stripped, trailing ellipsis of a truncated teaser removed. Idempotent.
    """
    return _canon(text)


def is_truncated(text: str) -> bool:
    """True when *text* ends with an ellipsis, i.e. a teaser cut by the publisher.

    Truncated texts are compared by containment (prefix) rather than Jaccard, see fingerprint.py.
    """
    stripped = text.rstrip()
    return stripped.endswith(("\u2026", "..."))


def tokens(norm: str) -> list[str]:
    """Word tokens (letters/digits, apostrophes inside words) of an already normalised text."""
    return _TOKEN.findall(norm)
