"""Language of a news unit: "uk", "ru", "en" or "und".

Most Ukrainian and Russian texts give themselves away by letters the other alphabet lacks
(і ї є ґ vs ы э ъ ё), so a letter count settles them without a model. Everything else (short
headlines, transliterated names, mixed quotes, Latin-script text) goes to lingua, restricted to a
few languages so it is fast; Latin text that looks German/French/Polish... is reported as "und"
rather than forced onto "en", and Belarusian (ў) is "und" too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from lingua import LanguageDetector

__all__ = ["detect_language"]

_MAX_CHARS = 400  # a few sentences decide it; keeps the cost per unit small and bounded
_CYR = re.compile(r"[а-яёіїєґўА-ЯЁІЇЄҐЎ]")
_LAT = re.compile(r"[a-zA-Z]")
_MIN_LETTERS = 3
_LINGUA_CHARS = 300  # the model is the slow part; a few sentences decide it
_EN_WORDS = re.compile(
    r"\b(?:the|of|and|to|in|is|was|are|were|that|said|for|with|on|has|have|will|from|by)\b",
    re.IGNORECASE,
)
_OTHER_LATIN = re.compile(r"[äöüßéèêàçñąęłńśźżœ]", re.IGNORECASE)


@lru_cache(maxsize=2)
def _detector(script: str) -> LanguageDetector:
    """Built once per script, on first use: loading models costs far more than a detection."""
    from lingua import Language, LanguageDetectorBuilder

    if script == "cyr":
        langs = [Language.UKRAINIAN, Language.RUSSIAN]
    else:
        # Decoys: Latin-script neighbours that should come out as "und", not as a forced "en".
        langs = [
            Language.ENGLISH,
            Language.GERMAN,
            Language.FRENCH,
            Language.SPANISH,
            Language.POLISH,
            Language.ITALIAN,
        ]
    # Low-accuracy mode uses trigrams only: about 10x faster, and the texts that reach it here
    # are a few sentences long, where it is as accurate as the full mode.
    return (
        LanguageDetectorBuilder.from_languages(*langs)
        .with_preloaded_language_models()
        .with_low_accuracy_mode()
        .build()
    )


def _from_lingua(text: str, script: str) -> str:
    lang = _detector(script).detect_language_of(text[:_LINGUA_CHARS])
    if lang is None:
        return "und"
    code = lang.iso_code_639_1.name.lower()
    return code if code in ("uk", "ru", "en") else "und"


def detect_language(text: str) -> str:
    """Return "uk", "ru", "en" or "und" (empty, too short, no letters, or another language)."""
    if not text:
        return "und"
    sample = text[:_MAX_CHARS]
    low = sample.lower()
    # str.count is a C loop per letter: far cheaper than regex findall over the sample.
    # These letters are ~5% of Ukrainian/Russian text; a floor scaled by length keeps a Latin
    # text quoting one Cyrillic name off the fast path.
    uk = sum(map(low.count, "іїєґ"))
    ru = sum(map(low.count, "ыэъё"))
    floor = max(2, len(low) // 100)
    if uk >= floor and ru * 8 <= uk and "ў" not in low:
        return "uk"
    if ru >= floor and uk * 8 <= ru and "ў" not in low:
        return "ru"
    cyr = len(_CYR.findall(sample))
    lat = len(_LAT.findall(sample))
    if cyr + lat < _MIN_LETTERS:
        return "und"
    if cyr <= lat:
        # Fast path: plain English prose (its function words, no other languages' letters).
        words = len(_EN_WORDS.findall(sample))
        if words >= 3 and words * 12 >= lat / 5 and _OTHER_LATIN.search(sample) is None:
            return "en"
        return _from_lingua(sample, "lat")
    if "ў" in low:
        return "und"  # ў: Belarusian, neither of ours
    return _from_lingua(sample, "cyr")
