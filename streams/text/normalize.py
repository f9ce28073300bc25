"""One normalisation for everything that compares text.

Feeds re-publish the same paragraph with cosmetic differences: typographic vs. ASCII quotes
and apostrophes (``’ ʼ '`` all occur in Ukrainian), different dashes, doubled spaces, NBSP, soft
hyphens, and a trailing ``…`` when a teaser is cut. Every comparison (exact fingerprint,
near-duplicate signature, tagging) goes through :func:`normalize`, so they never reach a hash.

Speed: every step is a handful of C-level string calls guarded by cheap checks (``isascii``,
``isprintable``, ``in``); no per-character Python loop and no regex on the usual text.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_truncated", "normalize", "tokens"]

_APOSTROPHES = "\u2019\u02bc'`\u2018"  # ’ ʼ ' ` ‘
_QUOTES = '\u00ab\u00bb\u201e\u201c\u201d"'  # « » „ “ ” "
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015"  # ‐ ‑ ‒ – — ―
# Invisible characters that split words without being whitespace: soft hyphen, zero-width
# space/joiners, word joiner, BOM. All of them are non-printable (str.isprintable() is False).
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
# Every character for which str.isspace() is True, except " " (checked by a unit test). None of
# them is printable, so text.isprintable() proves there is no whitespace but plain spaces.
_SPACES = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

_REPLACE = (
    *((c, "'") for c in _APOSTROPHES if c != "'"),
    *((c, '"') for c in _QUOTES if c != '"'),
    *((c, "-") for c in _DASHES),
)
_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# Separators replaced by a space before the whitespace split in tokens(): any character that is
# neither a word character nor the apostrophe separates tokens exactly like a space does.
_SEPARATORS = ',."-:;()!?'
_SEPARATORS_RARE = "/%+_[]&*=<>@#$^|~{}\\`\u2026\u2116\u00ab\u00bb\u2013\u2014"


def _fold_slow(text: str) -> str:
    # NFKC -> casefold -> NFKC approximates NFKC_Casefold; the fixed-point loop makes it
    # idempotent for exotic characters.
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


def _fold(text: str) -> str:
    """NFKC + casefold to a fixed point (same result as :func:`_fold_slow`, cheaper)."""
    if text.isascii():
        return text.lower()  # ASCII is NFKC and its casefold is lower()
    # The usual compatibility characters in news text are handled by hand so the NFKC quick-check
    # passes and the (slow) full NFKC is skipped.
    if "\u2026" in text:
        text = text.replace("\u2026", "...")
    cur = text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)
    cur = cur.casefold()
    if unicodedata.is_normalized("NFKC", cur):
        # casefold() is idempotent on every code point (unit test), so the next round of the
        # fixed-point loop would return cur unchanged.
        return cur
    return _fold_slow(text)


def _canon(text: str) -> str:
    if not text.isprintable():  # invisible characters, NBSP and other whitespace
        # Before the fold: removing them can join a letter and a combining mark.
        for c in _INVISIBLE:
            if c in text:
                text = text.replace(c, "")
        if "\u00a0" in text:
            text = text.replace("\u00a0", " ")
    out = _fold(text)
    # Targets are ASCII punctuation: they neither compose nor case-fold, so no second fold needed.
    if out.isascii():
        if "`" in out:
            out = out.replace("`", "'")
    else:
        for src, dst in _REPLACE:
            if src in out:
                out = out.replace(src, dst)
    # Same as " ".join(out.split()), without splitting into a list of words.
    if not out.isprintable():
        if "\n" in out:  # paragraphs: strip and join them, no double space to collapse after
            out = " ".join(filter(None, map(str.strip, out.split("\n"))))
        if not out.isprintable():
            for c in _SPACES:
                if c in out:
                    out = out.replace(c, " ")
    while "  " in out:
        out = out.replace("  ", " ")
    if out.startswith(" ") or out.endswith(" "):
        out = out.strip(" ")
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


def _words(s: str) -> list[str] | None:
    """The tokens of *s* if they are its whitespace-separated words, else None (regex needed)."""
    words = s.split()
    bare = "".join(words)
    if bare.isalnum():
        return words
    if not bare:
        return words
    if "'" not in bare or not bare.replace("'", "").isalnum():
        return None
    # Apostrophes belong to a token only between two alphanumerics ("п'ять", not "'цитата'").
    i = s.find("'")
    last = len(s) - 1
    while i >= 0:
        if i == 0 or i == last or not s[i - 1].isalnum() or not s[i + 1].isalnum():
            return None
        i = s.find("'", i + 1)
    return words


def tokens(norm: str) -> list[str]:
    """Word tokens (letters/digits, apostrophes inside words) of an already normalised text."""
    # Fast path: separators become spaces; if what is left is alphanumeric words separated by
    # spaces (apostrophes only between two alphanumerics), the tokens are exactly those words:
    # any character that is neither a word character nor the apostrophe separates tokens exactly
    # like a space does. Otherwise the regex decides.
    s = norm
    for c in _SEPARATORS:
        if c in s:
            s = s.replace(c, " ")
    out = _words(s)
    if out is None:
        for c in _SEPARATORS_RARE:
            if c in s:
                s = s.replace(c, " ")
        out = _words(s)
        if out is None:
            return _TOKEN.findall(norm)
    return out
