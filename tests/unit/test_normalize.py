"""normalize / is_truncated / tokens: every character class, idempotence, never raises."""

from __future__ import annotations

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
