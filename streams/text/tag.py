"""Topic tagger: the taxonomy in ``taxonomy.yaml`` compiled to ONE Aho-Corasick automaton.

Why this shape: news text is inflected (uk/ru), so names appear in a dozen forms. Lemmatising every
word at run time is slow; instead every listed lemma is expanded ONCE into all its word forms with
pymorphy3 and all forms of all tags go into a single automaton that scans the normalised text in one
pass. Word boundaries are part of the patterns (" form "); case, context and negative checks run
only on the few hits.

Entity tags say who/where a text names; theme tags say what it is about and need several distinct
signals (``min_score``; ``core`` words weigh 2), so one stray word does not make a story "sport".

Speed (``python -m bench.tag_speed``): text cp1251 can encode is normalised by one byte-table
translate and scanned as bytes; a text whose hits need no spans (no `not` phrase, no metonym
left to pair by a conjunction) is tagged from its set of signals, and ``_match`` - the reference
path, which ``hits()`` uses - runs only for the others, over the same hits. tests/unit/test_tag.py
checks that both paths agree. What remains is mostly the automaton scan (~13 ns a char).
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import itertools
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from encodings.cp1251 import decoding_table as _CP_DECODE
from encodings.cp1251 import encoding_table as _CP_ENCODE
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ahocorasick
import yaml

if TYPE_CHECKING:
    from streams.text.topics import TopicModel

__all__ = [
    "ENTITY_TAGS",
    "THEME_TAGS",
    "Hit",
    "TagDef",
    "Tagger",
    "default_tagger",
    "normalize_for_tagging",
    "tag",
    "tag_entities",
    "taxonomy",
]

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yaml")

# Separators become spaces, so every pattern is stored as " form " and the automaton itself
# enforces word boundaries: no hits inside longer words, no per-hit boundary checks. Every
# replacement keeps the length, so normalised offsets are original offsets (for cased forms).
_SEPARATORS = (
    '\n\t\r\f\v,.;:!?()[]{}«»"“”„‟‹›—–-‐‑‒―/\\|…*+=<>#%&~^_\u00a0\u2009\u202f•·▪№$€£°©®™@→−″'
)
# Whatever else is neither a word char nor a space (emoji, rare symbols) is a separator too; it
# is rare, so a regex pass runs only when a search finds one ("⚡️Трамп заявив").
_OTHER = re.compile(r"[^\w\s']")
_APOSTROPHES = "’ʼ`‘′´"  # uk spells the apostrophe many ways
# Dropped before matching (they split words invisibly): soft hyphen, zero-width chars, BOM, and the
# combining stress mark of Russian/Ukrainian learner texts ("Украи́на").
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff\u0301"
_MAX_PRODUCT = 4000  # bound on the cartesian product of a multiword name's forms
_FOUND_MEMO = 8192  # signal sets -> tag ids kept (cleared when full)
_MAX_CONTEXT_CHECKS = 8  # per tag and text: a city named 30 times costs 8 context checks

# kinds of automaton entries
_POS, _CTX, _NEG = 0, 1, 2


@dataclass(frozen=True)
class TagDef:
    """A tag as other code sees it (ids go into events; labels into UIs; iptc for partners)."""

    id: str
    kind: str
    labels: dict[str, str]
    iptc: str | None


@dataclass(frozen=True)
class Hit:
    """One accepted (or cancelled) match, for error analysis."""

    tag: str
    start: int
    end: int
    text: str
    signal: str
    fate: str  # "match", or "cancelled" by a `not` phrase of the tag


@dataclass(frozen=True)
class _Entry:
    tag: int  # index into Tagger.defs
    kind: int  # _POS, _CTX or _NEG
    signal: int  # id of the listed lemma/surface/en item (themes count distinct signals)
    cased: str | None  # exact original spelling required, or None
    rule: int  # index into Tagger._rules for _CTX, else -1
    subject: bool = True  # the form can be a nominative: "Москва заявила", not "Москву"


class _Stems:
    """word.startswith(stems) through a dict on the first two chars: one lookup and a few
    candidates instead of a pass over ~150 stems."""

    def __init__(self, stems: Iterable[str]) -> None:
        self.stems = tuple(stems)
        self._short = tuple(st for st in self.stems if len(st) < 2)
        by2: dict[str, list[str]] = {}
        for st in self.stems:
            if len(st) >= 2:
                by2.setdefault(st[:2], []).append(st)
        self._by2 = {k: tuple(v) for k, v in by2.items()}

    def __bool__(self) -> bool:
        return bool(self.stems)

    def match(self, word: str) -> bool:
        got = self._by2.get(word[:2])
        if got is not None and word.startswith(got):
            return True
        return bool(self._short) and word.startswith(self._short)


@dataclass(frozen=True)
class _Rule:
    """Context cues. Cyrillic cues are stems (prefixes); Latin ones are whole words, since
    English inflects little and "may" must not match "mayor"."""

    after: _Stems | None  # None: no stems (a plain test, not a Python __bool__)
    after_words: frozenset[str]
    before: _Stems | None
    before_words: frozenset[str]
    skip: frozenset[str]
    window_after: int
    window_before: int
    unless_after: _Stems | None
    unless_before: _Stems | None
    cued: bool  # has any after/before cue (a rule without accepts what it does not reject)


@dataclass
class _Builder:
    """Collects pattern -> entries while the taxonomy is read; becomes the automaton at the end."""

    patterns: dict[str, tuple[int, list[_Entry]]] = field(default_factory=dict)
    signals: list[str] = field(default_factory=list)
    weights: list[int] = field(default_factory=list)

    def add(self, form: str, entry: _Entry, *, prefix: bool = False, quotes: bool = False) -> None:
        """Store form delimited by spaces (" form "), or " form" for a prefix ("stem*")."""
        form = _clean_form(form)
        if not form:
            return
        lefts, rights = (" ", "'"), (" ", "'")
        for left in lefts if quotes else lefts[:1]:
            for right in ("",) if prefix else rights if quotes else rights[:1]:
                pat = left + form + right
                self.patterns.setdefault(pat, (len(form), []))[1].append(entry)

    def signal(self, name: str, weight: int = 1) -> int:
        self.signals.append(name)
        self.weights.append(weight)
        return len(self.signals) - 1


def normalize_for_tagging(text: str) -> str:
    """Lowercase, separators to spaces, one apostrophe, ё→е; the length of text is kept.

    Not streams.text.normalize.normalize: that one (for hashing) collapses whitespace and applies
    NFKC, which moves offsets, and the case-sensitive forms ("US", "Альянс") are checked against
    the original text at the offsets of a hit.

    Every step maps one char to one char, so for text that cp1251 can encode (nearly all uk/ru/en
    news) the whole normalisation is one byte-table translate (_CP_TABLE, built from
    _normalize_slow itself); a per-char str.translate would cost more than the automaton scan.
    """
    try:
        raw = _cp_encode(text, "strict", _CP_ENCODE)[0]
    except UnicodeEncodeError:
        return _normalize_slow(text)
    return _cp_decode(raw.translate(_CP_TABLE), "strict", _CP_DECODE)[0]


def _normalize_slow(text: str) -> str:
    """normalize_for_tagging with C-level str methods only, for text outside cp1251."""
    low = text.lower()
    if len(low) != len(text):  # rare: a char whose lowercase is longer ("İ"); keep it as it is
        low = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    for ch in _SEPARATORS:
        if ch in low:
            low = low.replace(ch, " ")
    low = _unify(low)
    if _OTHER.search(low):
        low = _OTHER.sub(" ", low)
    return low


def _cp_table() -> bytes:
    """byte -> byte: _normalize_slow of each cp1251 char (one char, always in cp1251 again).

    Valid because every step is per char there: no cp1251 char lowercases to several chars or
    depends on its neighbours (Greek final sigma is not in cp1251).
    """
    table = bytearray(range(256))
    for i in range(256):
        try:
            ch = bytes([i]).decode("cp1251")
        except UnicodeDecodeError:  # 0x98: never produced by encode
            continue
        out = _normalize_slow(ch).encode("cp1251")
        if len(out) != 1:
            raise AssertionError(f"cp1251 char {ch!r} normalises to {out!r}")
        table[i] = out[0]
    if [ch for ch in _INVISIBLE if ch.encode("cp1251", "ignore")] != ["\u00ad"]:
        raise AssertionError("_tags expects the soft hyphen as the one invisible cp1251 char")
    return bytes(table)


def _visible(text: str) -> str:
    for ch in _INVISIBLE:
        if ch in text:
            text = text.replace(ch, "")
    return text


def _unify(text: str) -> str:
    for ch in _APOSTROPHES:
        if ch in text:
            text = text.replace(ch, "'")
    if "ё" in text or "Ё" in text:
        text = text.replace("ё", "е").replace("Ё", "Е")
    return text


_CP_TABLE = _cp_table()
# str.encode("cp1251") / bytes.decode("cp1251") without the Python frame of the codec's wrapper
_cp_encode = codecs.charmap_encode
_cp_decode = codecs.charmap_decode


def _cased_form(form: str) -> str:
    """Like _clean_form but keeping case: how a cased pattern ("E.U.", "US") is compared."""
    for ch in _SEPARATORS:
        if ch in form:
            form = form.replace(ch, " ")
    return " ".join(_unify(form).split())


@functools.lru_cache(maxsize=8192)
def _cased_slice(span: str) -> str:
    """_cased_form of a span of the text at a cased hit ("US", "us", "Альянс"): few distinct
    spans, so cached. _unify commutes with the separator step and is idempotent, so unifying the
    span alone equals unifying the whole text first."""
    return _cased_form(span)


def _clean_form(form: str) -> str:
    """A pattern as the normalised text spells it: separators as single spaces, no edges."""
    return " ".join(normalize_for_tagging(form).split())


@functools.cache
def _morph(lang: str) -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer(lang=lang)


def _word_forms(
    word: str, lang: str, *, person: bool, locative: str = "all", nominative: bool = False
) -> set[str]:
    """All forms of one dictionary word; literal for acronyms and "=word".

    locative: "all"; "drop" (a capital as the government: "у Києві" names the city); "only" (the
    locative forms alone, for "у Кремлі заявили"-style rules). nominative: only forms that can be
    a nominative (the subject of "Москва заявила").
    """
    if word.startswith("="):
        return {_clean_form(word[1:])}
    if word.isupper() or not any(c.isalpha() for c in word):
        return {_clean_form(word)}
    low = _clean_form(word)
    surname = person and word[:1].isupper()
    parses = _morph(lang).parse(word)
    own = [p for p in parses if _clean_form(p.normal_form) == low] or parses
    keep: set[str] = set() if nominative else {low}
    loc: set[str] = set()
    for p in own:
        for f in p.lexeme:
            grams = f.tag.grammemes
            if surname and ("femn" in grams or "neut" in grams) and "ms-f" not in grams:
                continue
            w = _clean_form(f.word)
            if "loct" in grams or "loc2" in grams:
                loc.add(w)
            if not nominative or "nomn" in grams:
                keep.add(w)
    if locative == "drop":
        keep -= loc
    elif locative == "only":
        keep = loc
    keep.discard("")
    return keep


def _lemma_forms(
    phrase: str, lang: str, *, person: bool, locative: str = "all", nominative: bool = False
) -> set[str]:
    """Forms of a (multiword) lemma: each word's forms, combined (bounded cartesian product)."""
    words = phrase.split()
    per_word = [
        sorted(_word_forms(w, lang, person=person, locative=locative, nominative=nominative))
        for w in words
    ]
    size = 1
    for forms in per_word:
        size *= max(1, len(forms))
    if size > _MAX_PRODUCT:
        raise ValueError(f"lemma {phrase!r} expands to {size} forms; split it or freeze words")
    return {" ".join(combo) for combo in itertools.product(*per_word)}


def _en_forms(phrase: str) -> set[str]:
    """English phrase with plural and possessive of the last word (Russians, Russia's, allies')."""
    low = _clean_form(phrase)
    return {low, low + "s", low + "'s", low + "s'", low + "es"}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class Tagger:
    """The compiled taxonomy: one automaton over every form of every tag.

    Build once (``default_tagger()`` caches it); ``tag()`` is then one scan plus checks on the hits.
    """

    def __init__(self, spec: Mapping[str, Any]) -> None:
        t0 = time.perf_counter()
        raw_tags = spec.get("tags") or []
        self.defs: tuple[TagDef, ...] = tuple(_tagdef(t) for t in raw_tags)
        ids = [d.id for d in self.defs]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate tag ids in taxonomy")
        self._is_entity = tuple(d.kind == "entity" for d in self.defs)
        self._ids = ids
        self._min_score = tuple(int(t.get("min_score", 1)) for t in raw_tags)

        rule_names: list[str] = []
        rules: list[_Rule] = []
        for name, r in (spec.get("contexts") or {}).items():
            rule_names.append(str(name))
            after = [_clean_form(w) for w in _as_list(r.get("after"))]
            before = [_clean_form(w) for w in _as_list(r.get("before"))]
            rules.append(
                _Rule(
                    after=_Stems(w for w in after if not _is_latin(w)) or None,
                    after_words=frozenset(w for w in after if _is_latin(w)),
                    before=_Stems(w for w in before if not _is_latin(w)) or None,
                    before_words=frozenset(w for w in before if _is_latin(w)),
                    skip=frozenset(_clean_form(w) for w in _as_list(r.get("skip"))),
                    window_after=int(r.get("window_after", 3)),
                    window_before=int(r.get("window_before", 2)),
                    unless_after=_Stems(_clean_form(w) for w in _as_list(r.get("unless_after")))
                    or None,
                    unless_before=_Stems(_clean_form(w) for w in _as_list(r.get("unless_before")))
                    or None,
                    cued=bool(after or before),
                )
            )
        self._rules = tuple(rules)

        b = _Builder()
        for i, t in enumerate(raw_tags):
            person = bool(t.get("person", False))
            self._add_group(b, i, t, _POS, -1, person=person)
            if t.get("core"):  # the words that name a theme outright weigh 2
                self._add_group(b, i, t["core"], _POS, -1, person=False, weight=2)
            for ctx in t.get("context") or []:
                rule = rule_names.index(str(ctx["rule"]))
                self._add_group(b, i, ctx, _CTX, rule, person=person)
            if t.get("not"):
                self._add_group(b, i, t["not"], _NEG, -1, person=False)
        self._signals = tuple(b.signals)
        self._has_neg = tuple(bool(t.get("not")) for t in raw_tags)
        self._weights = tuple(b.weights)
        # every signal belongs to one tag; a tag is found when its distinct signals weigh at
        # least _need (any signal for an entity: weights are >= 1)
        sig_tag = [-1] * len(b.signals)
        for _form_len, entries in b.patterns.values():
            for e in entries:
                if sig_tag[e.signal] not in (-1, e.tag):
                    raise AssertionError(f"signal {b.signals[e.signal]!r} of two tags")
                sig_tag[e.signal] = e.tag
        self._sig_tag = tuple(sig_tag)
        self._found_memo: dict[frozenset[int], tuple[str, ...]] = {}
        self._need = tuple(
            1 if ent else n for ent, n in zip(self._is_entity, self._min_score, strict=True)
        )

        auto = ahocorasick.Automaton()
        # the same patterns as cp1251 bytes read as latin-1: _tags scans cp1251-encodable text
        # (nearly all) as its normalised bytes, skipping a cp1251 decode; one char is one byte,
        # so offsets agree. Patterns cp1251 cannot encode ("chișinău") cannot occur there.
        auto_cp = ahocorasick.Automaton()
        for pat, (form_len, entries) in b.patterns.items():
            # plain: the signals when every entry is an unconditional positive one (nearly
            # all hits), so the scan loop skips the per-entry checks; None sends the hit through
            # the full per-entry path; plain_ent is the same for tag_entities()
            plain: tuple[int, ...] | None = None
            plain_ent: tuple[int, ...] | None = None
            if all(e.kind == _POS and e.cased is None for e in entries):
                plain = tuple(e.signal for e in entries)
                plain_ent = tuple(e.signal for e in entries if self._is_entity[e.tag])
            value = (len(pat), form_len, tuple(entries), plain, plain_ent)
            auto.add_word(pat, value)
            with contextlib.suppress(UnicodeEncodeError):
                auto_cp.add_word(pat.encode("cp1251").decode("latin-1"), value)
        auto.make_automaton()
        auto_cp.make_automaton()
        self._auto = auto
        self._auto_cp = auto_cp
        self.n_patterns = len(b.patterns)
        self.build_seconds = time.perf_counter() - t0

    @classmethod
    def from_yaml(cls, path: str | Path = TAXONOMY_PATH) -> Tagger:
        with open(path, encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    # ------------------------------------------------------------------ build

    def _add_group(
        self,
        b: _Builder,
        tag_i: int,
        g: Mapping[str, Any],
        kind: int,
        rule: int,
        *,
        person: bool,
        weight: int = 1,
    ) -> None:
        # In context groups "у Києві" is the city, not the government, unless the group asks for
        # exactly those forms (forms: locative, with its own rule: "у Москві заявили") or for all
        # (forms: all: "у МОЗ" is still the ministry).
        forms = {"locative": "only", "all": "all"}.get(str(g.get("forms")), "drop")
        locative = forms if kind == _CTX else "all"
        lemmas = g.get("lemmas") or {}
        for lang, phrases in lemmas.items():
            for phrase in _as_list(phrases):
                sig = b.signal(phrase, weight)
                nom: set[str] | None = None
                if kind == _CTX and locative == "drop":  # gov_loc/body forms need no subject
                    nom = _lemma_forms(phrase, lang, person=person, nominative=True)
                for form in _lemma_forms(phrase, lang, person=person, locative=locative):
                    subject = nom is None or form in nom
                    b.add(form, _Entry(tag_i, kind, sig, None, rule, subject))
        for item in _as_list(g.get("surface")):
            sig = b.signal(item, weight)
            prefix = item.endswith("*") and len(item) > 1
            b.add(
                item.rstrip("*") if prefix else item,
                _Entry(tag_i, kind, sig, None, rule),
                prefix=prefix,
            )
        for item in _as_list(g.get("cased")):
            sig = b.signal(item, weight)
            b.add(item, _Entry(tag_i, kind, sig, _cased_form(item), rule))
        for item in _as_list(g.get("en")):
            sig = b.signal(item, weight)
            if item.isupper():  # AI, IMF, LNG: the lowercase word is something else
                for suffix in ("", "s", "'s"):
                    cased = _cased_form(item + suffix)
                    b.add(cased, _Entry(tag_i, kind, sig, cased, rule), quotes=True)
            else:
                for form in _en_forms(item):
                    b.add(form, _Entry(tag_i, kind, sig, None, rule), quotes=True)

    # ------------------------------------------------------------------ matching

    def _context_ok(self, e: _Entry, low: str, start: int, end: int) -> int:
        """Does a metonym mean the state here? 1 yes (a cue), 0 no cue, -1 blocked.

        After-cues (speech/decision verbs) need a form that can be the subject ("Москва
        заявила", not "посетит Москву ... сообщил"); the word just before may be such a verb
        in any case ("стверджує Сеул", "звинуватив Москву"); before-cues ("тиск на Москву").
        """
        # low holds only word chars, whitespace and "'" (normalize_for_tagging), so its words
        # ([\w']+ runs) are what str.split gives, a few times faster than a findall
        rule = self._rules[e.rule]
        skip = rule.skip
        after = [w for w in low[end : end + 120].split() if w not in skip]
        stems = rule.unless_after
        if stems is not None and after and stems.match(after[0]):
            return -1
        raw_before = low[max(0, start - 80) : start].split()
        stems = rule.unless_before
        if stems is not None and raw_before and stems.match(raw_before[-1]):
            return -1
        if not rule.cued:
            return 1
        stems, words = rule.after, rule.after_words
        if e.subject:
            for w in after[: rule.window_after]:
                if w in words or (stems is not None and stems.match(w)):
                    return 1
        before = [w for w in raw_before if w not in skip]
        if rule.window_before <= 0 or not before:
            return 0
        w = before[-1]
        if w in words or (stems is not None and stems.match(w)):
            return 1
        stems, words = rule.before, rule.before_words
        for w in before[-rule.window_before :]:
            if w in words or (stems is not None and stems.match(w)):
                return 1
        return 0

    @staticmethod
    def _paired(
        low: str,
        pending: list[tuple[int, int, int, int]],
        spans: list[tuple[int, int, int, int]],
    ) -> list[tuple[int, int, int, int]]:
        """Pending metonyms joined by a conjunction to another entity name count:
        "між Києвом і Москвою", "Kyiv and Moscow", "Брюсселем та Кремлем"."""
        by_start: dict[int, list[tuple[int, int, int, int]]] = {}
        by_end: dict[int, list[tuple[int, int, int, int]]] = {}
        for q in spans:
            by_start.setdefault(q[2], []).append(q)
            by_end.setdefault(q[3], []).append(q)
        out = []
        for p in pending:
            near = [
                (p[3], k, q) for k in range(p[3] + 2, p[3] + 8) for q in by_start.get(k, ())
            ] + [(k, p[2], q) for k in range(p[2] - 7, p[2] - 1) for q in by_end.get(k, ())]
            if any(q[0] != p[0] and low[lo:hi].split() in _CONJUNCTIONS for lo, hi, q in near):
                out.append(p)
        return out

    def _match(
        self,
        text: str,
        entities_only: bool,
        low: str | None = None,
        found: Any = None,
        known: Mapping[tuple[int, bool, int, int], int] | None = None,
    ) -> tuple[list[tuple[int, int, int, int]], list[tuple[int, int, int]]]:
        """One scan: accepted (tag, signal, start, end) and negative (tag, start, end) spans.

        text has no invisible chars (_visible); offsets are in it: the scan string is
        " " + normalised text + " ". low (normalize_for_tagging(text)) and found (the
        automaton's hits on the scan string, in its order) let _tags resume a scan it began;
        known: context checks _tags made already, by (rule, subject, start, end).
        """
        if low is None:
            low = normalize_for_tagging(text)
        if found is None:
            found = self._auto.iter(f" {low} ")
        is_entity, sig_tag = self._is_entity, self._sig_tag
        pos: list[tuple[int, int, int, int]] = []
        neg: list[tuple[int, int, int]] = []
        pending: list[tuple[int, int, int, int]] = []  # metonyms without a cue yet
        partners: list[tuple[int, int, int, int]] = []  # metonyms not checked (tag known already)
        accepted: set[int] = set()
        checks: dict[int, int] = {}
        has_neg = self._has_neg
        pos_append, accept = pos.append, accepted.add
        for last, (pat_len, form_len, entries, plain, plain_ent) in found:
            start = last - pat_len + 1  # pattern start in padded = form start in text
            end = start + form_len
            if plain is not None:
                for sig in plain_ent if entities_only else plain:
                    t = sig_tag[sig]
                    pos_append((t, sig, start, end))
                    accept(t)
                continue
            for e in entries:
                if entities_only and not is_entity[e.tag]:
                    continue
                if e.cased is not None and _cased_slice(text[start:end]) != e.cased:
                    continue
                if e.kind == _NEG:
                    neg.append((e.tag, start, end))
                elif e.kind == _POS:
                    pos.append((e.tag, e.signal, start, end))
                    accepted.add(e.tag)
                else:
                    span = (e.tag, e.signal, start, end)
                    # context checks are the costly part: none once the tag is certain, and
                    # a bounded number per tag in texts that repeat a city name many times
                    n = checks.get(e.tag, 0)
                    if (e.tag in accepted and not has_neg[e.tag]) or n >= _MAX_CONTEXT_CHECKS:
                        partners.append(span)
                        continue
                    checks[e.tag] = n + 1
                    ok = known.get((e.rule, e.subject, start, end)) if known else None
                    if ok is None:
                        ok = self._context_ok(e, low, start, end)
                    if ok > 0:
                        pos.append(span)
                        accepted.add(e.tag)
                    elif ok == 0:
                        pending.append(span)
        todo = [p for p in pending if p[0] not in accepted]
        if todo:
            spans = [p for p in pos if is_entity[p[0]]] + pending + partners
            pos += self._paired(low, todo, spans)
        return pos, neg

    @staticmethod
    def _cancelled(p: tuple[int, int, int, int], neg: list[tuple[int, int, int]]) -> bool:
        return any(n[0] == p[0] and n[1] <= p[2] and p[3] <= n[2] for n in neg)

    def hits(self, text: str) -> list[Hit]:
        """Every accepted or cancelled match, for error analysis (bench/eval_tags.py --verbose)."""
        if not isinstance(text, str) or not text:
            return []
        text = _visible(text)
        pos, neg = self._match(text, entities_only=False)
        out = [
            Hit(
                self.defs[t].id,
                s,
                e,
                text[s:e],
                self._signals[sig],
                "cancelled" if self._cancelled((t, sig, s, e), neg) else "match",
            )
            for t, sig, s, e in pos
        ]
        return sorted(out, key=lambda h: (h.start, h.end, h.tag))

    def _tags(self, text: str, entities_only: bool) -> list[str]:
        """Most texts need no spans: their tags follow from the set of accepted signals. Plain
        hits add theirs, the others go through _settle, which does what _match does as long as
        no spans are needed. Spans are needed for a `not` phrase (the scan then goes on in
        _match, which first replays the hits seen so far) and for a metonym left without a cue
        (pairing: _match redoes the whole scan from the hits kept). Either way the result is
        _match's."""
        if not isinstance(text, str) or not text:
            return []
        low: str | None = None
        norm = b""
        try:
            raw = _cp_encode(f" {text} ", "strict", _CP_ENCODE)[0]  # the scan string's spaces
        except UnicodeEncodeError:
            text = _visible(text)
            low = normalize_for_tagging(text)
            found = self._auto.iter(f" {low} ")
        else:  # the soft hyphen is the one invisible char in cp1251
            if b"\xad" in raw:
                text = text.replace("\xad", "")
                raw = raw.replace(b"\xad", b"")
            norm = raw.translate(_CP_TABLE)  # " " + normalised text + " ", as bytes
            found = self._auto_cp.iter(norm.decode("latin-1"))
        k = 4 if entities_only else 3
        sigs: set[int] = set()
        add = sigs.update
        seen: list[tuple[int, tuple[Any, ...]]] = []
        keep = seen.append
        st: _Scan | None = None  # made at the first non-plain hit
        for hit in found:
            plain = hit[1][k]
            if plain is None:
                if st is None:
                    st = _Scan(text, norm, low, sigs)
                if not self._settle(st, hit, entities_only):
                    pos, neg = self._match(
                        text,
                        entities_only,
                        st.lower(),
                        itertools.chain(seen, (hit,), found),
                        st.known,
                    )
                    return self._found_spans(pos, neg)
            keep(hit)
            if plain:
                add(plain)
        if st is not None and st.pending:
            sig_tag = self._sig_tag
            accepted = {sig_tag[s] for s in sigs}
            todo = [p for p in st.pending if p[0] not in accepted]
            if todo and _may_pair(st.lower(), todo):
                pos, neg = self._match(text, entities_only, st.lower(), iter(seen), st.known)
                return self._found_spans(pos, neg)
        return self._found(sigs) if sigs else []

    def _settle(self, st: _Scan, hit: tuple[int, tuple[Any, ...]], entities_only: bool) -> bool:
        """Apply a non-plain hit to st as _match would; False (st then useless) at a `not`
        phrase: cancelling needs spans. (Without a `not` hit in the text, spans of tags that
        have `not` phrases need no keeping either.)"""
        last, (pat_len, form_len, entries, _plain, _plain_ent) = hit
        start = last - pat_len + 1
        end = start + form_len
        is_entity, has_neg, sig_tag = self._is_entity, self._has_neg, self._sig_tag
        sigs, checks = st.sigs, st.checks
        for e in entries:
            if entities_only and not is_entity[e.tag]:
                continue
            if e.cased is not None and _cased_slice(st.text[start:end]) != e.cased:
                continue
            if e.kind == _POS:
                sigs.add(e.signal)
                continue
            if e.kind == _NEG:
                return False
            n = checks.get(e.tag, 0)
            if n >= _MAX_CONTEXT_CHECKS or (
                not has_neg[e.tag] and any(sig_tag[s] == e.tag for s in sigs)
            ):
                continue  # a partner in _match: it matters only for pairing
            checks[e.tag] = n + 1
            ok = self._context_ok(e, st.lower(), start, end)
            st.known[(e.rule, e.subject, start, end)] = ok
            if ok > 0:
                sigs.add(e.signal)
            elif ok == 0:
                st.pending.append((e.tag, start, end))
        return True

    def _found_spans(
        self, pos: list[tuple[int, int, int, int]], neg: list[tuple[int, int, int]]
    ) -> list[str]:
        if neg:
            pos = [p for p in pos if not self._cancelled(p, neg)]
        return self._found({p[1] for p in pos})

    def _found(self, sigs: set[int]) -> list[str]:
        """Tag ids, in taxonomy order, of the distinct signals sigs (few sets recur: cached)."""
        key = frozenset(sigs)
        got = self._found_memo.get(key)
        if got is None:
            sig_tag, weights, need = self._sig_tag, self._weights, self._need
            score: dict[int, int] = {}
            for sig in sigs:
                t = sig_tag[sig]
                score[t] = score.get(t, 0) + weights[sig]
            ids = self._ids
            got = tuple(ids[t] for t in sorted(score) if score[t] >= need[t])
            if len(self._found_memo) >= _FOUND_MEMO:
                self._found_memo.clear()
            self._found_memo[key] = got
        return list(got)

    def tag(self, text: str) -> list[str]:
        """Entity and theme tags of text, in taxonomy order, without duplicates. Never raises."""
        return self._tags(text, entities_only=False)

    def tag_entities(self, text: str) -> list[str]:
        """Entity tags only (the scored part of tagging)."""
        return self._tags(text, entities_only=True)


class _Scan:
    """What _tags keeps while it scans: the text, its padded normalised cp1251 bytes (or its
    normalised str), the accepted signals, context checks per tag, metonyms without a cue."""

    __slots__ = ("checks", "known", "low", "norm", "pending", "sigs", "text")

    def __init__(self, text: str, norm: bytes, low: str | None, sigs: set[int]) -> None:
        self.text, self.norm, self.low, self.sigs = text, norm, low, sigs
        self.checks: dict[int, int] = {}
        self.pending: list[tuple[int, int, int]] = []  # (tag, start, end)
        self.known: dict[tuple[int, bool, int, int], int] = {}  # context checks made

    def lower(self) -> str:
        """normalize_for_tagging(text), decoded from the bytes on first use."""
        if self.low is None:
            self.low = _cp_decode(self.norm[1:-1], "strict", _CP_DECODE)[0]
        return self.low


_CONJUNCTIONS = (["і"], ["й"], ["та"], ["и"], ["and"], ["або"], ["или"], ["or"])
_CONJ_WORDS = frozenset(c[0] for c in _CONJUNCTIONS)
_CONJ_ENDS = tuple(_CONJ_WORDS)


def _may_pair(low: str, todo: list[tuple[int, int, int]]) -> bool:
    """Can Tagger._paired join any of these metonym spans to a neighbour? Only through a
    conjunction just after the span (the first word of the next 8 chars) or just before it
    (the last word of the 7 chars before ends with it: a stem match may end mid-word). False
    means _paired would find nothing, so _tags needs no spans."""
    for _tag, start, end in todo:
        after = low[end : end + 8].split()
        if after and after[0] in _CONJ_WORDS:
            return True
        before = low[max(0, start - 7) : start].split()
        if before and before[-1].endswith(_CONJ_ENDS):
            return True
    return False


def _is_latin(word: str) -> bool:
    return word.isascii()


def _tagdef(t: Mapping[str, Any]) -> TagDef:
    return TagDef(
        id=str(t["id"]),
        kind=str(t.get("kind", "entity")),
        labels={str(k): str(v) for k, v in (t.get("labels") or {}).items()},
        iptc=(str(t["iptc"]) if t.get("iptc") else None),
    )


# ---------------------------------------------------------------------- module-level API


@functools.cache
def _spec() -> dict[str, Any]:
    with open(TAXONOMY_PATH, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict):
        raise ValueError(f"{TAXONOMY_PATH}: expected a mapping")
    return data


@functools.cache
def taxonomy() -> tuple[TagDef, ...]:
    """The tag definitions, loaded once (no automaton build: cheap for UIs and schema code)."""
    return tuple(_tagdef(t) for t in _spec().get("tags") or [])


@functools.cache
def default_tagger() -> Tagger:
    """The shared compiled tagger, built on first use (about a second) and kept."""
    return Tagger(_spec())


def _ids(kind: str) -> tuple[str, ...]:
    return tuple(d.id for d in taxonomy() if d.kind == kind)


ENTITY_TAGS: tuple[str, ...] = _ids("entity")
THEME_TAGS: tuple[str, ...] = _ids("theme")


_ENTITY_SET = frozenset(ENTITY_TAGS)


def tag(text: str) -> list[str]:
    """Entity + theme tags of text, in taxonomy order.

    Entity tags come from the automaton; theme tags from the classifier in topics.py, which
    takes the automaton's keyword themes (the same scan) as features. ``Tagger.tag`` is the
    keyword tagger alone, kept as the baseline bench/eval_topics.py measures against.
    """
    found = default_tagger()._tags(text, False)
    ents = [t for t in found if t in _ENTITY_SET]
    return ents + _topic_model().classify(text, [t for t in found if t not in _ENTITY_SET])


@functools.cache
def _topic_model() -> TopicModel:
    from streams.text.topics import default_model  # topics imports this module

    return default_model()


def tag_entities(text: str) -> list[str]:
    """Entity tags of text, in taxonomy order."""
    return default_tagger()._tags(text, True)
