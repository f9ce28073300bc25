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

_MAX_CHARS = 2000  # enough for a confident answer; keeps the cost per unit bounded
_CYR = re.compile(r"[а-яёіїєґўА-ЯЁІЇЄҐЎ]")
_LAT = re.compile(r"[a-zA-Z]")
_UK_ONLY = re.compile(r"[іїєґІЇЄҐ]")
_RU_ONLY = re.compile(r"[ыэъёЫЭЪЁ]")
_BE_ONLY = re.compile(r"[ўЎ]")
_MIN_LETTERS = 3
_LINGUA_CHARS = 600  # the model is the slow part; a few sentences decide it


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
    return LanguageDetectorBuilder.from_languages(*langs).with_preloaded_language_models().build()


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
    cyr = len(_CYR.findall(sample))
    lat = len(_LAT.findall(sample))
    if cyr + lat < _MIN_LETTERS:
        return "und"
    if cyr <= lat:
        return _from_lingua(sample, "lat")
    if _BE_ONLY.search(sample) is not None:
        return "und"  # ў: Belarusian, neither of ours
    uk = len(_UK_ONLY.findall(sample))
    ru = len(_RU_ONLY.findall(sample))
    # Fast path: one alphabet's own letters, clearly and without the other's.
    if uk >= 2 and ru == 0:
        return "uk"
    if ru >= 2 and uk == 0:
        return "ru"
    return _from_lingua(sample, "cyr")
