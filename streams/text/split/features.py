"""Paragraph features for a trained scorer: sparse (name, value) pairs per unit.

Built on what the rules already computed (``rules.prepare`` + the hand cut search): the role
the rules give, why a rule fixed it, the paragraph's shape and wording facts, its lexical
cohesion with the title and the story before it and with its neighbours, and its position. The
trained model learns how much each fact counts, per role, from labelled items of many sites,
instead of weights set by hand on the development set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import islice
from math import fsum

from streams.text.html import Block

from . import rules as R

Feats = list[tuple[str, float]]
ROLES = ("T", "L", "S", "B")
# Roles that rules fix with a high precision on held-out sites (furniture patterns, "Read also"
# markers and marker-prefixed or link-list teasers): not scored, and transparent to the decode.
KEEP_FIXED = frozenset({"marker", "boiler", "bold", "prefix", "links"})
_TOKEN = re.compile(r"[^\W\d_]+|\d+")
SHORT_WORDS = 10  # lines up to this many words also give their words as features
# Furniture that the rules' patterns do not name: times and dates inside a line, counters,
# handles, "loading"/"cookie"/"error on this page" notices.
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
_DATE_NUM = re.compile(r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b(?:19|20)\d{2}\b")
_HANDLE = re.compile(r"(?:^|\s)@\w+|https?://|www\.|\.(?:com|ua|ru|net|org)\b")
_HANDLE_WORDS = ("@", "http", "www.", ".com", ".ua", ".ru", ".net", ".org")
_DIGIT = re.compile(r"\d")
# Furniture conventions shared across sites that the rules do not fix: image markup, a credit
# anywhere in a caption ("... / Колаж: Главред", "REUTERS/...", "(скриншот)"), relative times
# ("51 minutes ago", "6 годин тому"), "story being updated" notices and view counters.
_CREDIT_WORDS = (
    "фото", "photo", "image", "reuters", "getty", "скриншот", "скріншот", "колаж", "коллаж",
    "інфографік", "инфографик", "depositphotos", "shutterstock", "ілюстрац", "иллюстрац",
    "©",
)  # fmt: skip
_SLASH_TAIL = re.compile(r"\s/\s?[^/.!?]{2,40}$")
_AGO = re.compile(r"\d+\s*\w+\s+(?:ago|тому|назад)")
_UPDATING = re.compile(r"(?:доповню|оновлю|дополня|обновля|доповнен|дополнен)\w*[.…]*$")
_VIEWS = re.compile(r"\d\s*(?:просмотр|перегляд|views?)")
# The literals of rules._END_OF_ARTICLE_L: one of them must occur for it to match.
_END_WORDS = (
    "коментар", "комментар", "comment", "поділит", "поделит", "share", "джерело", "источник",
    "source", "теги", "tags", "telegram", "телеграм", "viber", "facebook", "підпис", "подпис",
    "subscribe", "відповідь", "reply",
)  # fmt: skip


_HAS_END = R._any_of(_END_WORDS)
_HAS_CREDIT = R._any_of(_CREDIT_WORDS)
_HAS_HANDLE = R._any_of(_HANDLE_WORDS)

# Furniture lives in short lines (the rules' own furniture checks stop at 160 characters or 30
# words): longer paragraphs skip the pattern checks, which are most of a new paragraph's cost.
_PATTERN_MAX = 300


def _pattern_feats(f: R._Feat, out: Feats) -> None:
    text, low, fold = f.text, f.low, f.fold
    if f.is_marker():
        out.append(("p:marker_only", 1.0))
    elif f.marker_prefix_end() >= 0:
        out.append(("p:marker_prefix", 1.0))
    if text.startswith(("![", "<image>")) or "data:image" in text:
        out.append(("p:media", 1.0))
    if len(text) > _PATTERN_MAX:
        return
    if R._BOILER_L.match(fold):
        out.append(("p:boiler_word", 1.0))
    if R._DATEISH_L.match(fold):
        out.append(("p:date", 1.0))
    if R._credit(low):
        out.append(("p:credit", 1.0))
    if R._social(low):
        out.append(("p:social", 1.0))
    if R._subscribe(low):
        out.append(("p:subscribe", 1.0))
    if R._appeal(low):
        out.append(("p:appeal", 1.0))
    if R._crumb(text):
        out.append(("p:crumb", 1.0))
    if R._TAGLINE.match(text):
        out.append(("p:tagline", 1.0))
    if R._PERSON.match(text):
        out.append(("p:person", 1.0))
    if R._MINOR.match(text):
        out.append(("p:minor", 1.0))
    if _HAS_END(fold) and R._END_OF_ARTICLE_L.search(fold):
        out.append(("p:end_of_article", 1.0))
    if _HAS_CREDIT(low):
        out.append(("p:credit_word", 1.0))
    if "/" in text and _SLASH_TAIL.search(text):
        out.append(("p:slash_tail", 1.0))
    if _DIGIT.search(text) is not None:
        if _AGO.search(low):
            out.append(("p:ago", 1.0))
        if _VIEWS.search(low):
            out.append(("p:views", 1.0))
    if _UPDATING.search(low):
        out.append(("p:updating", 1.0))


def _words_feats(f: R._Feat, words: int, out: Feats) -> None:
    if words <= SHORT_WORDS:
        toks = _TOKEN.findall(f.low)
    else:  # only the opening two words are used: stop scanning there
        it = _TOKEN.finditer(f.low)
        toks = [m.group() for m in islice(it, 2)]
    if toks:
        out.append(("fw:" + toks[0], 1.0))
        if len(toks) > 1:
            out.append(("fw2:" + toks[0] + "_" + toks[1], 1.0))
    if words <= SHORT_WORDS:
        for t in dict.fromkeys(toks):
            out.append(("w:" + ("#" if t.isdigit() else t), 1.0))
    text = f.text
    # Cheap necessary conditions first (unanchored searches over a paragraph cost).
    if _DIGIT.search(text) is not None:
        if _TIME.search(text):
            out.append(("p:time", 1.0))
        if _DATE_NUM.search(text):
            out.append(("p:datenum", 1.0))
    if _HAS_HANDLE(f.low) and _HANDLE.search(f.low):
        out.append(("p:handle", 1.0))


def _text_feats(f: R._Feat) -> Feats:
    """Context-free features of a paragraph text (memoised on its ``_Feat``)."""
    if f.stems is None:
        R._analyse(f)
    text = f.text
    words = text.count(" ") + 1
    fs: Feats = [
        ("w<=3" if words <= 3 else "w<=8" if words <= 8 else "w<=16" if words <= 16 else
         "w<=30" if words <= 30 else "w>30", 1.0)
    ]  # fmt: skip
    if f.long:
        fs.append(("long", 1.0))
    if f.truncated:
        fs.append(("trunc", 1.0))
    if f.lower:
        fs.append(("lower", 1.0))
    if f.anaphoric:
        fs.append(("anaph", 1.0))
    if f.weak_anaphoric:
        fs.append(("weak_anaph", 1.0))
    if f.no_entity:
        fs.append(("no_entity", 1.0))
    last = text[-1:]
    if last in ".!?…":
        fs.append(("end_punct", 1.0))
    elif last in ":;":
        fs.append(("end_colon", 1.0))
    elif last in '"»”)':
        fs.append(("end_quote", 1.0))
    if text[:1].isdigit():
        fs.append(("digit0", 1.0))
    if R._headline_shaped(text):
        fs.append(("headline", 1.0))
    _pattern_feats(f, fs)
    _words_feats(f, words, fs)
    return fs


def text_feats(f: R._Feat) -> Feats:
    """The context-free features of ``f``, memoised on it."""
    tf = f.mfeats
    if tf is None:
        tf = f.mfeats = _text_feats(f)
    return tf


# The context part of a unit's features: numeric ones in fixed slots of a dense vector (a
# scorer takes their dot product in C: ``sum(map(mul, ...))``), and a few categorical names.
DENSE = (
    "bias", "relpos", "first_free", "cut", "coh0", "coh", "ratio", "coh_title", "colon_prev",
    "bold", "link", "before_lead", "after_teaser", "after_trunc", "hard", "after_hard",
    "first_share0", "first_share", "later_share0", "later_share", "next_share", "prev_share",
    "prev_long", "next_long",
)  # fmt: skip
(
    _BIAS, _RELPOS, _FIRST_FREE, _CUT, _COH0, _COH, _RATIO, _COH_TITLE, _COLON_PREV, _BOLD,
    _LINK, _BEFORE_LEAD, _AFTER_TEASER, _AFTER_TRUNC, _HARD, _AFTER_HARD, _FIRST_SHARE0,
    _FIRST_SHARE, _LATER_SHARE0, _LATER_SHARE, _NEXT_SHARE, _PREV_SHARE, _PREV_LONG,
    _NEXT_LONG,
) = range(len(DENSE))  # fmt: skip
_ZEROS = [0.0] * len(DENSE)
# The categorical context of a unit: (rules' role, previous and next unit's role, why a rule
# fixed it, position among scored units (capped at 3), last unit, "t" if there is a title,
# HTML tag). A small space: a scorer memoises its weights per key.
CatKey = tuple[str, str, str, str, int, bool, str, str]
Context = tuple[list[float], CatKey]


def cat_names(key: CatKey) -> list[str]:
    """The categorical features a ``CatKey`` stands for. Conjunctions (the rules' role with its
    neighbours'; position with the end and the title), so one look-up carries what several
    would, and the interactions are learnt."""
    role, prev_r, next_r, fixed, k, last, has_title, tag = key
    out = [
        "hand=" + role,
        "ctx=" + prev_r + role + next_r + ("F" if fixed else ""),
        "pos=" + str(k) + ("e" if last else "") + has_title,
        "tag=" + tag,
    ]
    if fixed:
        out.append("fixed=" + fixed)
    return out


def unit_features(
    units: Sequence[R._Unit],
    blocks: Sequence[Block] | None,
    title: str | None,
    *,
    with_text: bool = True,
) -> list[Feats | None]:
    """One sparse feature list per unit (after ``rules.prepare`` and ``rules._assign``); None
    for units whose role a rule fixed for good (``KEEP_FIXED``: nothing to score).

    ``with_text=False`` leaves out the context-free part (``text_feats``), which a scorer can
    then score once per paragraph text and memoise. This is ``context_features`` (and
    ``text_feats``) as (name, value) pairs, for training."""
    out: list[Feats | None] = []
    for u, cf in zip(units, context_features(units, blocks, title), strict=True):
        if cf is None:
            out.append(None)
            continue
        dense, key = cf
        fs: Feats = [(c, 1.0) for c in cat_names(key)]
        fs += [(DENSE[j], x) for j, x in enumerate(dense) if x]
        if with_text:
            fs.extend(text_feats(u.f))
        out.append(fs)
    return out


def context_features(
    units: Sequence[R._Unit], blocks: Sequence[Block] | None, title: str | None
) -> list[Context | None]:
    """The context features of each unit: a dense vector over ``DENSE`` and the key of its
    categorical features (``cat_names``); None for units whose role a rule fixed for good
    (``KEEP_FIXED``)."""
    n = len(units)
    out: list[Context | None] = []
    roles = [u.role for u in units]
    seen_lead = False
    seen_teaser = False
    first_free = True
    seen_trunc = False
    seen_hard = False
    prev_nb = -1  # the previous unit that is not furniture
    html = blocks is not None
    has_title = "t" if title is not None else ""
    k = -1
    # The story's opening paragraph: the first the rules left free (or the first lead).
    first_idx = next((j for j, u in enumerate(units) if not u.fixed or u.role == "L"), -1)
    # Lexical overlaps (weight of a unit's stems shared), in one pass from the end:
    # - with the opening paragraph, and its running maximum from the end: a story's later
    #   paragraphs still share words with what comes after them; the first teaser of a block
    #   is followed only by other stories;
    # - with the next paragraph.
    # ``fsum`` is exact, so the (hash-seeded) order of a set intersection cannot change a sum.
    # (Overlap with all later paragraphs, with the paragraphs two and three back and with the
    # headline were tried: no gain under leave-sites-out validation, 20-40 µs an item.)
    stems = [u.f.analysed().stems for u in units]
    fstems = stems[first_idx] if first_idx >= 0 else None
    first_sh = [0.0] * n
    next_sh = [0.0] * n
    later_max = [0.0] * (n + 1)
    nxt: dict[str, float] | None = None
    for j in range(n - 1, -1, -1):
        sj = stems[j]
        if sj:
            ks = sj.keys()
            if nxt and not ks.isdisjoint(nxt):
                next_sh[j] = fsum(map(sj.__getitem__, ks & nxt.keys()))
            if fstems and j != first_idx and units[j].role != "B" and not ks.isdisjoint(fstems):
                first_sh[j] = fsum(map(sj.__getitem__, ks & fstems.keys()))
        if units[j].role != "B":  # furniture between two paragraphs does not break them
            nxt = sj
        lm = later_max[j + 1]
        later_max[j] = lm if lm > first_sh[j] else first_sh[j]
    for i, u in enumerate(units):
        f = u.f
        role = u.role
        fixed = u.fixed
        if fixed in KEEP_FIXED:
            out.append(None)
            if f.truncated and role != "B":
                seen_trunc = True
            seen_hard = seen_hard or u.hard
            if role != "B":
                prev_nb = i
            continue
        k += 1  # position among the scored units (furniture before a title does not count)
        prev_r = roles[i - 1] if i else "^"
        next_r = roles[i + 1] if i + 1 < n else "$"
        if html and blocks is not None:
            blk = blocks[i]
            tag = blk.tag
        else:
            blk = None
            tag = "plain"
        cats = (role, prev_r, next_r, fixed, k if k < 3 else 3, i == n - 1, has_title, tag)
        v = _ZEROS[:]
        v[_BIAS] = 1.0
        v[_RELPOS] = i / n
        if not fixed:
            if first_free:
                v[_FIRST_FREE] = 1.0
                first_free = False
            cut = u.cut_cost
            v[_CUT] = -2.0 if cut < -10 else 2.0 if cut > 10 else cut / 5.0
            coh = u.coh
            if coh == 0.0:
                v[_COH0] = 1.0
            else:
                v[_COH] = (coh if coh < 6.0 else 6.0) / 6.0
                if f.weight:
                    r = coh / f.weight
                    v[_RATIO] = r if r < 1.0 else 1.0
            if u.coh_title > 0:
                v[_COH_TITLE] = 1.0
            if u.colon:
                v[_COLON_PREV] = 1.0
        if blk is not None:
            if blk.bold_prefix:
                v[_BOLD] = 1.0
            if blk.link_chars:
                v[_LINK] = blk.link_density
        if not seen_lead:
            v[_BEFORE_LEAD] = 1.0
        if seen_teaser:
            v[_AFTER_TEASER] = 1.0
        if seen_trunc:
            v[_AFTER_TRUNC] = 1.0
        if u.hard:
            v[_HARD] = 1.0
        elif seen_hard:
            v[_AFTER_HARD] = 1.0
        if i != first_idx and first_idx >= 0:
            sh = first_sh[i]
            if sh == 0.0:
                v[_FIRST_SHARE0] = 1.0
            else:
                v[_FIRST_SHARE] = (sh if sh < 4.0 else 4.0) / 4.0
        sh = later_max[i + 1]
        if sh == 0.0:
            v[_LATER_SHARE0] = 1.0
        else:
            v[_LATER_SHARE] = (sh if sh < 4.0 else 4.0) / 4.0
        if i + 1 < n:
            sh = next_sh[i]
            v[_NEXT_SHARE] = (sh if sh < 4.0 else 4.0) / 4.0
        if prev_nb >= 0:
            sh = next_sh[prev_nb]
            v[_PREV_SHARE] = (sh if sh < 4.0 else 4.0) / 4.0
        # The neighbours' shape: a story is a run of body paragraphs, a teaser block a run of
        # one-sentence ledes.
        if i and units[i - 1].f.long:
            v[_PREV_LONG] = 1.0
        if i + 1 < n and units[i + 1].f.analysed().long:
            v[_NEXT_LONG] = 1.0
        if f.truncated and role != "B":
            seen_trunc = True
        seen_hard = seen_hard or u.hard
        if role == "L":
            seen_lead = True
        elif role == "S" and fixed not in ("bold", "prefix"):
            seen_teaser = True  # an inline "Read also: ..." line does not end the story
        if role != "B":
            prev_nb = i
        out.append((v, cats))
    return out
