"""normalize / is_truncated / tokens: every character class, idempotence, never raises."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.text.normalize import is_truncated, normalize, tokens


@pytest.mark.parametrize("ch", ["\u2019", "\u02bc", "'", "`", "\u2018"])
def test_apostrophes(ch: str) -> None:
    assert normalize(f"п{ch}ятниця") == "п'ятниця"


@pytest.mark.parametrize("ch", ["\u00ab", "\u00bb", "\u201e", "\u201c", "\u201d", '"'])
def test_quotes(ch: str) -> None:
    assert normalize(f"{ch}Укренерго{ch}") == '"укренерго"'


@pytest.mark.parametrize("ch", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2015"])
def test_dashes(ch: str) -> None:
    assert normalize(f"a {ch} b") == "a - b"


def test_whitespace_case_nfkc() -> None:
    assert normalize("  Київ\u00a0\t  ВІТАЄ\n\nﬁnal  ") == "київ вітає final"


def test_invisible_removed() -> None:
    assert normalize("гри\u00adвня\u200b") == "гривня"


@pytest.mark.parametrize(
    "text",
    ["У п’ятницю, 5 вересня, в одному з районів…", "in the shadow fleet...", "a… ", "a... ..."],
)
def test_trailing_ellipsis(text: str) -> None:
    assert is_truncated(text)
    assert not normalize(text).endswith(".")


def test_not_truncated() -> None:
    assert not is_truncated("Повний текст.")
    assert not is_truncated("Два крапки..")
    assert normalize("Два крапки..") == "два крапки.."


def test_tokens() -> None:
    assert tokens(normalize("Кортіна-д’Ампеццо, 2025/26: WBA_x «Дія»")) == [
        "кортіна",
        "д'ампеццо",
        "2025",
        "26",
        "wba",
        "x",
        "дія",
    ]


def test_idempotent_examples() -> None:
    for text in ["«Шахтар» — «Динамо»…", "Ukraineʼs   port ...", "ǅ ﬃ ß Σ"]:
        once = normalize(text)
        assert normalize(once) == once


@given(st.text(alphabet=st.characters(codec=None)))
def test_never_raises_and_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert isinstance(is_truncated(text), bool)
    assert all(tokens(once))


def test_fast_path_assumptions() -> None:
    """What the fast paths of normalize() rely on, checked over every code point."""
    from streams.text import normalize as mod

    chars = [chr(i) for i in range(sys.maxunicode + 1)]
    # _fold() skips the second fixed-point round: casefold is idempotent.
    assert all(c.casefold().casefold() == c.casefold() for c in chars)
    # _canon() collapses whitespace without split(): _SPACES is every other space character,
    # and isprintable() proves none of them (nor an invisible character) is present.
    assert "".join(c for c in chars if c.isspace() and c != " ") == mod._SPACES
    assert not any(c.isprintable() for c in mod._SPACES + mod._INVISIBLE)


@given(st.text(alphabet=st.sampled_from("aБ1²½_ '’`-,.\"…«»№#\u0301\u00ad\n")))
def test_tokens_fast_path_matches_regex(text: str) -> None:
    from streams.text.normalize import _TOKEN

    for s in (text, normalize(text)):
        assert tokens(s) == _TOKEN.findall(s)


@given(st.text(alphabet=st.characters(codec=None)))
def test_tokens_match_regex_any_text(text: str) -> None:
    from streams.text.normalize import _TOKEN

    assert tokens(text) == _TOKEN.findall(text)


def _reference(text: str) -> str:
    """The straightforward normalisation the fast paths must reproduce."""
    from streams.text import normalize as mod

    for c in mod._INVISIBLE:
        text = text.replace(c, "")
    out = mod._fold_slow(text.replace("\u2026", "...").replace("\u00a0", " "))
    for src, dst in mod._REPLACE:
        out = out.replace(src, dst)
    out = " ".join(out.split())
    while out.endswith("..."):
        out = out.rstrip(".").rstrip()
    return out


@given(st.text(alphabet=st.characters(codec=None)))
def test_matches_reference_any_text(text: str) -> None:
    assert normalize(text) == _reference(text)


@given(
    st.text(
        alphabet=st.sampled_from("aAБбΣς ßİ'’ʼ`‘«»„“”-–—\u00ad\u200b\u00a0\u3000\t\n\r….\u0301")
    )
)
def test_matches_reference_special_characters(text: str) -> None:
    assert normalize(text) == _reference(text)
