"""Exact fingerprint, near-duplicate signature and the per-stage partition keys.

Why this shape (details and full curves in docs/dedup.md, reproduced by ``bench.eval_dedup``):

* ``exact``: xxh3_64 of the normalised text catches verbatim and cosmetic repeats.
* Tokens with a digit are masked to ``#``: a changed date or figure must not split a story.
* Complete texts: bottom-16 MinHash of masked unigrams+bigrams (first 256 tokens), duplicate if J >=
  ``JACCARD_MIN`` (0.5) and token-count ratio >= ``LEN_RATIO_MIN`` (0.8). On 2,592 corpus
  paragraphs with synthetic edits, J>=0.5 accepts 100 % of one-word drops/changes and 98 % of
  two-word edits; the ratio guard takes "cut to 1/3-3/4 without an ellipsis" negatives from 61 %
  (J alone) to 0 %, so a short headline never swallows the longer text it starts.
* Truncated teasers (``…``): in-order containment of the teaser's first <= 24 token hashes in the
  start of the other text, >= ``CONTAIN_MIN`` (0.8, about one edit per five words), >= 5 tokens.
  Dev: positives 1.0, negatives <= 0.5.
* Keys: stage 0 = first 6 masked tokens (number/quote/truncation-proof), stage 1 = the 2 longest
  words among the first 40 (edit-proof outside those two words). Key-only pair recall on dev
  0.952 / 0.968, any 1.000; on synthetic edits any-key >= 0.88 for one-word edits, >= 0.99 for
  truncation. Largest corpus bucket: 3 (stage 0), 4 (stage 1).
"""

from __future__ import annotations

import base64
import heapq
import operator
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import xxhash

from streams.text.normalize import is_truncated, normalize, tokens

__all__ = [
    "CONTAIN_MIN",
    "JACCARD_MIN",
    "LEN_RATIO_MIN",
    "STAGES",
    "Signature",
    "containment",
    "is_duplicate",
    "jaccard",
    "signature",
]

STAGES = 2
SKETCH_K = 16  # bottom-k MinHash size
SKETCH_TOKENS = 256  # tokens that feed the sketch (bounds the cost of long leads)
PREFIX_LEN = 24  # 16-bit hashes of the first PREFIX_LEN content tokens
KEY0_TOKENS = 6  # stage 0: hash of the first KEY0_TOKENS masked tokens
KEY1_WINDOW = 40  # stage 1: the KEY1_PICK longest tokens among the first KEY1_WINDOW
KEY1_PICK = 2
JACCARD_MIN = 0.5  # near-duplicate threshold for two complete texts
LEN_RATIO_MIN = 0.8  # complete texts: shorter/longer token count (a headline is not its lead)
CONTAIN_MIN = 0.8  # share of a truncated text's prefix tokens found in order in the other text
CONTAIN_MIN_TOKENS = 5  # a truncated text needs this many kept tokens to be matched by prefix

_MASK30 = (1 << 30) - 1
_MASK_TOKEN = "#"
_DIGIT = re.compile(r"\d")
# Per-token hash halves, memoised (news vocabulary is Zipfian, most lookups hit): token ->
# bits 34..63 (``_hi``: unigram feature, its top 16 bits are the prefix hash) and bits 0..29
# (``_lo``: mixed into bigrams) of xxh3_64 of the masked token. Bounded: cleared when full.
_hi: dict[str, int] = {}
_lo: dict[str, int] = {}
_HASH_CACHE_MAX = 200_000
# Whole-text memo of signature(): at most _MEMO_MAX texts of <= _MEMO_TEXT_MAX chars (~3 MB).
_memo: dict[str, Signature] = {}
_MEMO_MAX = 2048
_MEMO_TEXT_MAX = 600
_PREFIX_SHIFT = (14,) * PREFIX_LEN  # hi >> 14 = the top 16 bits of the 64-bit token hash


def _utf8(text: str) -> bytes:
    # surrogatepass: a lone surrogate from a badly decoded feed must not crash the stream.
    return text.encode("utf-8", "surrogatepass")


def _learn(toks: list[str]) -> None:
    """Hash the tokens of *toks* not yet in the cache."""
    if len(_hi) + len(toks) > _HASH_CACHE_MAX:
        _hi.clear()
        _lo.clear()
    hi, lo = _hi, _lo
    for tok in toks:
        if tok not in hi:
            h = xxhash.xxh3_64_intdigest(_utf8(_mask_one(tok)))
            hi[tok] = h >> 34
            lo[tok] = h & _MASK30


def _lookup(head: list[str]) -> tuple[Sequence[int], Sequence[int]]:
    """(hi, lo) hash halves of every token of *head*, from the cache (hashing the new ones)."""
    if len(head) < 2:
        _learn(head)
        return [_hi[t] for t in head], [_lo[t] for t in head]
    get = operator.itemgetter(*head)  # one C call for all lookups
    try:
        return get(_hi), get(_lo)
    except KeyError:
        _learn(head)
        return get(_hi), get(_lo)


def _mask_one(tok: str) -> str:
    return tok if tok.isalpha() or not _DIGIT.search(tok) else _MASK_TOKEN


def _mask(toks: list[str]) -> list[str]:
    """Mask every token containing a digit: dates and figures get edited between re-publications."""
    joined = "".join(toks)
    if joined.isalpha() or not _DIGIT.search(joined):
        return toks
    return [_mask_one(t) for t in toks]


def _sketch(his: Sequence[int], los: Sequence[int], k: int = SKETCH_K) -> tuple[int, ...]:
    """Bottom-k MinHash over word unigrams and bigrams, values of 30 bits.

    Unigram feature: bits 34..63 of the token hash; bigram (a, b): hi(a) XOR lo(b), order-sensitive
    and uniform because the two halves are independent bits. C-level map/heapify and k pops: no
    Python loop per token (30-bit values are single-digit ints, the cheapest to compare).
    """
    if len(his) <= 64:  # short texts: one C sort beats the heap pops
        return tuple(sorted({*his, *map(operator.xor, his, los[1:])})[:k])
    feats = [*his, *map(operator.xor, his, los[1:])]
    heapq.heapify(feats)
    pop = heapq.heappop
    out: list[int] = []
    last = -1
    while feats and len(out) < k:
        x = pop(feats)
        if x != last:  # a repeated unigram/bigram is one feature
            out.append(x)
            last = x
    return tuple(out)


def _key0(masked: list[str]) -> str:
    return xxhash.xxh3_64_hexdigest(_utf8("\x1f".join(masked)))


def _key1(window: list[str]) -> str:
    """The KEY1_PICK longest distinct unmasked tokens (ties: lower hash, then text), sorted."""
    cands = set(window)
    if not "".join(cands).isalpha() and _DIGIT.search("".join(cands)):
        cands = {t for t in cands if _mask_one(t) != _MASK_TOKEN}
    # Longest first. The stable sort by length alone decides the pick unless a group of equal
    # length crosses the cut; then that group (and only it) is ordered by hash.
    order = sorted(cands, key=len, reverse=True)
    n = KEY1_PICK
    if len(order) > n and len(order[n]) == len(order[n - 1]):
        size = len(order[n])
        start = n - 1
        while start and len(order[start - 1]) == size:
            start -= 1
        end = n + 1
        while end < len(order) and len(order[end]) == size:
            end += 1
        # By text first so that equal hashes (never seen, 30 bits) still order deterministically.
        order[start:end] = sorted(sorted(order[start:end]), key=_hi.__getitem__)
    picked = sorted(order[:n])
    return xxhash.xxh3_64_hexdigest(_utf8("\x1f".join(picked) + "\x1e1"))


@dataclass(frozen=True, slots=True)
class Signature:
    """What dedup needs to know about one text, small enough for a Kafka table changelog.

    ``exact`` is the xxh3_64 of the normalised text; ``sketch`` a bottom-k MinHash of masked word
    unigrams+bigrams (Jaccard of complete texts); ``prefix`` 16-bit hashes of the first masked
    tokens (containment of truncated teasers); ``keys`` the partition key of each dedup stage.
    """

    exact: int
    ntokens: int
    truncated: bool
    sketch: tuple[int, ...]
    prefix: tuple[int, ...]
    keys: tuple[str, ...]
    _json: list[Any] | None = field(default=None, compare=False, repr=False)
    """The JSON form, once made or read: a unit's signature is encoded again at every hop and
    in every state record of its bucket, and decoded from the same form."""

    @property
    def fingerprint(self) -> str:
        """16 hex chars of ``exact``: the id of the text in events."""
        return f"{self.exact:016x}"

    def to_json(self) -> list[Any]:
        """``[blob, key0, key1, ...]``: the numeric fields packed into one base64 string."""
        js = self._json
        if js is None:
            js = self._encode()
            object.__setattr__(self, "_json", js)
        return list(js)

    def _encode(self) -> list[Any]:
        blob = struct.pack(
            f">QHBB{len(self.sketch)}I{len(self.prefix)}H",
            self.exact,
            min(self.ntokens, 0xFFFF),
            int(self.truncated),
            len(self.sketch),
            *self.sketch,
            *self.prefix,
        )
        return [base64.b64encode(blob).decode("ascii").rstrip("="), *self.keys]

    @classmethod
    def from_json(cls, data: Any) -> Signature:
        blob_s, *keys = data
        blob = base64.b64decode(blob_s + "=" * (-len(blob_s) % 4))
        exact, ntokens, trunc, nsk = struct.unpack_from(">QHBB", blob)
        off = 12
        sketch = struct.unpack_from(f">{nsk}I", blob, off)
        off += 4 * nsk
        prefix = struct.unpack_from(f">{(len(blob) - off) // 2}H", blob, off)
        return cls(
            exact, ntokens, bool(trunc), tuple(sketch), tuple(prefix), tuple(keys), list(data)
        )


def signature(text: str) -> Signature:
    """Signature of one unit (lead or teaser); deterministic across processes.

    Short texts (teasers, headlines: they repeat verbatim across the pages of a site) are memoised
    in a bounded table; the signature is immutable, so a hit returns the same object.
    """
    sig = _memo.get(text)
    if sig is None:
        sig = _compute(text)
        if len(text) <= _MEMO_TEXT_MAX:
            if len(_memo) >= _MEMO_MAX:
                _memo.clear()
            _memo[text] = sig
    return sig


def _compute(text: str) -> Signature:
    norm = normalize(text)
    trunc = is_truncated(text)
    toks = tokens(norm)
    if trunc and len(toks) > 1:
        # The last word of a cut teaser may itself be cut ("Національного ба…").
        toks.pop()
    # Only the first SKETCH_TOKENS tokens feed the sketch (bounds the cost of long leads); the
    # prefix and the keys use fewer.
    head = toks[:SKETCH_TOKENS] if len(toks) > SKETCH_TOKENS else toks
    his, los = _lookup(head)
    return Signature(
        exact=xxhash.xxh3_64_intdigest(_utf8(norm)),
        ntokens=len(toks),
        truncated=trunc,
        sketch=_sketch(his, los),
        prefix=tuple(map(operator.rshift, his[:PREFIX_LEN], _PREFIX_SHIFT)),
        keys=(_key0(_mask(toks[:KEY0_TOKENS])), _key1(toks[:KEY1_WINDOW]))[:STAGES],
    )


def jaccard(a: Sequence[int], b: Sequence[int], k: int = SKETCH_K) -> float:
    """Bottom-k estimate of the Jaccard similarity of the two feature sets."""
    if not a or not b:
        return 1.0 if not a and not b else 0.0
    sa, sb = set(a), set(b)
    union = sorted(sa | sb)[:k]
    return len(sa.intersection(sb, union)) / len(union)


def containment(short: Sequence[int], long: Sequence[int]) -> float:
    """Share of *short*'s tokens found, in order, at the start of *long*.

    A greedy alignment that tolerates one dropped/inserted/changed word at a time, enough for a
    teaser cut from an edited copy of the lead.
    """
    if not short:
        return 0.0
    long = long[: len(short) + 2]
    i = j = matched = 0
    n, m = len(short), len(long)
    while i < n and j < m:
        if short[i] == long[j]:
            matched += 1
            i += 1
            j += 1
        elif i + 1 < n and short[i + 1] == long[j]:
            i += 1  # word only in short
        elif j + 1 < m and short[i] == long[j + 1]:
            j += 1  # word only in long
        else:
            i += 1
            j += 1
    return matched / n


def is_duplicate(a: Signature, b: Signature) -> bool:
    """Same text up to cosmetic edits, a changed word or figure, or truncation."""
    if a.exact == b.exact:
        return True
    if a.truncated or b.truncated:
        short, long = (
            (a, b) if (a.truncated and (not b.truncated or a.ntokens <= b.ntokens)) else (b, a)
        )
        if (
            short.ntokens >= CONTAIN_MIN_TOKENS
            and long.ntokens + 1 >= min(short.ntokens, PREFIX_LEN)
            and containment(short.prefix, long.prefix) >= CONTAIN_MIN
        ):
            return True
    lo, hi = sorted((a.ntokens, b.ntokens))
    if hi and lo / hi < LEN_RATIO_MIN:
        return False
    return jaccard(a.sketch, b.sketch) >= JACCARD_MIN
