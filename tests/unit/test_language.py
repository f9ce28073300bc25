"""Language detection: own uk/ru/en samples, hard short cases, and totality."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.text.language import detect_language

SAMPLES = {
    "uk": [
        "У Чернігові відкрили оновлений міст через Десну, рух по ньому відновлено в обидва боки.",
        "Синоптики попереджають про сильний вітер і зливи на заході країни впродовж вихідних.",
        "Президент підписав закон про підтримку малого бізнесу в прифронтових громадах.",
        # No і/ї/є/ґ fast-path letters: the model has to decide.
        "Нова школа в селі буде готова до вересня, кажуть будівельники",
    ],
    "ru": [
        "В Харькове после ремонта открылась станция метро, движение поездов восстановлено.",
        "Синоптики предупреждают о сильном ветре и ливнях на западе страны в выходные.",
        "Правительство утвердило программу льготных кредитов для молодых семей.",
        "Новая школа в селе будет готова к сентябрю, говорят строители",
    ],
    "en": [
        "The city council approved a plan to build new cycling lanes across the downtown area.",
        "Heavy rain caused flooding in several villages in the south, officials said on Monday.",
        "Kyiv and Warsaw agreed to open a new border crossing for trucks next spring.",
    ],
}


@pytest.mark.parametrize(("lang", "text"), [(k, t) for k, v in SAMPLES.items() for t in v])
def test_samples(lang: str, text: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "12345 678", "!!! ??? ...", "ok", "🙂🙂🙂", "http://", "2025-01-01"]
)
def test_empty_short_or_garbage_is_und(text: str) -> None:
    assert detect_language(text) == "und"


def test_other_languages_are_not_forced_onto_ours() -> None:
    assert (
        detect_language("Die Regierung hat heute ein neues Gesetz über Mieten beschlossen.")
        == "und"
    )
    assert detect_language("Добры дзень, як справы ў вас сёння?") == "und"  # Belarusian


def test_ukrainian_with_english_quote_stays_ukrainian() -> None:
    text = 'Міністр заявив: "We will continue to support Ukraine", і пообіцяв нову допомогу.'
    assert detect_language(text) == "uk"


def test_fast_enough_on_2kb_units() -> None:
    texts = [(t + " ") * 25 for v in SAMPLES.values() for t in v]
    detect_language(texts[0])  # build the detector outside the timing
    n, t0 = 0, time.perf_counter()
    while n < 500:
        for t in texts:
            detect_language(t[:2048])
            n += 1
    rate = n / (time.perf_counter() - t0)
    assert rate > 500, f"{rate:.0f} units/s"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_total_and_in_range(text: str) -> None:
    assert detect_language(text) in {"uk", "ru", "en", "und"}
