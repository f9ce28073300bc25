"""Theme classifier (streams/text/topics.py): the packaged model, its contract and its wiring.

Every text here is the project's own (no shared text is copied); quality on the labelled data is
measured by bench/eval_topics.py, not asserted here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.text.tag import ENTITY_TAGS, THEME_TAGS, default_tagger, tag, tag_entities
from streams.text.topics import (
    MODEL_NAME,
    TopicModel,
    classify,
    default_model,
    features,
    scores,
    stems,
)

SPORT_UK = (
    "Збірна України з футболу перемогла Ісландію 2:1 у відборі до чемпіонату світу\n"
    "Вирішальний гол забив нападник на 88-й хвилині матчу, тренер збірної похвалив гравців, "
    "а вболівальники на стадіоні святкували вихід команди до фінальної частини турніру."
)
SPORT_EN = (
    "Arsenal beat Chelsea 3-0 to go top of the Premier League\n"
    "The striker scored twice in the second half and the coach praised the team's defence; "
    "the club's fans celebrated at the stadium as the league title race tightened."
)
WEATHER_RU = (
    "Синоптики прогнозируют сильные морозы и снегопады\n"
    "В ближайшие дни температура воздуха ночью опустится до минус 20 градусов, ожидается "
    "сильный ветер, метель и гололедица на дорогах, предупредили в гидрометцентре."
)
WAR_UK = (
    "Росія вночі атакувала Харків ударними дронами та ракетами\n"
    "Сили протиповітряної оборони збили більшість дронів, але уламки пошкодили житлові будинки; "
    "є поранені серед мирних жителів, повідомили у військовій адміністрації та Генштабі ЗСУ."
)


def test_model_themes_are_the_taxonomy_themes_in_order() -> None:
    m = default_model()
    assert m.themes == THEME_TAGS
    assert len(m.bias) == len(m.threshold) == len(THEME_TAGS)
    assert m.stem_len >= 3
    for got in m.weights.values():
        assert all(0 <= i < len(m.themes) for i, _w in got)


def test_model_file_loads_from_the_installed_package() -> None:
    """The JSON is package data (pyproject), read through importlib.resources, in a fresh
    interpreter started outside the source tree."""
    raw = resources.files("streams.text").joinpath(MODEL_NAME).read_text(encoding="utf-8")
    data = json.loads(raw)
    assert set(data["threshold"]) == set(THEME_TAGS)
    code = (
        "from streams.text.topics import classify, default_model;"
        "m = default_model(); print(len(m.weights) > 100, classify('x') == [])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True
    )
    assert out.stdout.split() == ["True", "True"]


@pytest.mark.parametrize(
    ("text", "theme"),
    [(SPORT_UK, "sport"), (SPORT_EN, "sport"), (WEATHER_RU, "weather"), (WAR_UK, "war")],
)
def test_clear_texts_get_their_theme(text: str, theme: str) -> None:
    assert theme in classify(text, [t for t in default_tagger().tag(text) if t in THEME_TAGS])
    assert theme in tag(text)


def test_a_sport_text_is_not_war_or_weather() -> None:
    got = tag(SPORT_UK)
    assert "war" not in got and "weather" not in got


def test_at_most_max_themes() -> None:
    m = default_model()
    assert m.max_themes >= 1
    mixed = " ".join([SPORT_UK, WEATHER_RU, WAR_UK])  # all well covered: no back-off
    assert len(classify(mixed, list(THEME_TAGS))) <= m.max_themes


def test_tag_is_entities_then_classifier_themes() -> None:
    for text in (SPORT_UK, WAR_UK, WEATHER_RU, "", "Трамп і Путін"):
        got = tag(text)
        ents = tag_entities(text)
        assert got[: len(ents)] == ents
        kw = [t for t in default_tagger().tag(text) if t in THEME_TAGS]
        assert got[len(ents) :] == classify(text, kw)


def test_features_and_stems() -> None:
    assert stems("", 6) == set()
    assert stems("Санкції, санкцій; САНКЦІЯМИ! в і на 2025", 6) == {"санкці"}
    assert stems("об'єкт м'яч", 6) == {"об'єкт", "м'яч"}
    f = features("Матч\nгол гол м'яч", 6, ["sport"], kw_value=0.5, title_weight=1.0)
    assert f["kw:sport"] == 0.5
    assert f["t:матч"] == pytest.approx(1.0)
    assert sum(v * v for k, v in f.items() if ":" not in k) == pytest.approx(1.0)


def test_decide_caps_by_margin_and_keeps_order() -> None:
    m = TopicModel.from_dict(
        {
            "themes": ["a", "b", "c"],
            "stem_len": 5,
            "max_themes": 2,
            "bias": {"a": 0.0, "b": 0.0, "c": 0.0},
            "threshold": {"a": 0.0, "b": 0.0, "c": 0.0},
            "weights": {"a": {"футбо": 1.0}, "b": {}, "c": {"kw:c": -2.0}},
        }
    )
    assert m.decide([3.0, 1.0, 2.0]) == ["a", "c"]
    assert m.decide([-1.0, 0.5, -0.1]) == ["b"]
    assert m.scores("футбол", ["c"]) == [1.0, 0.0, -2.0]
    assert m.classify("футбол") == ["a", "b"]  # a tie at the cap goes to taxonomy order


_TEXTS = st.one_of(
    st.text(),
    st.text(alphabet="абвгґдеєжзиіїйклмнопрстуфхцчшщьюяё'’ -\n.,!0123456789abcxyzЁЇІ\u0301\u00ad"),
    st.lists(
        st.sampled_from(["матч", "санкції", "war", "гол", "ракета", "погода", "ЦВК", "📈", "\x00"]),
        max_size=40,
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(_TEXTS, st.lists(st.sampled_from([*THEME_TAGS, "nope"]), max_size=4))
def test_never_raises_known_ids_deterministic(text: str, kw: list[str]) -> None:
    got = classify(text, kw)
    assert set(got) <= set(THEME_TAGS)
    assert got == classify(text, kw)
    assert len(got) == len(set(got))
    assert got == [t for t in THEME_TAGS if t in got]
    full = tag(text)
    assert set(full) <= set(ENTITY_TAGS) | set(THEME_TAGS)
    assert all(isinstance(v, float) for v in scores(text, kw).values())


def test_non_strings_and_empty() -> None:
    assert classify("") == []
    assert classify("   \n\t ") == []
    assert classify(None) == []  # type: ignore[arg-type]
    assert tag(None) == []  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["матч", "гол", "санкції", "ракета", "погода", "вибори", "газ", "\n", "the", "м'яч"]
        ),
        max_size=60,
    ).map(" ".join),
    st.lists(st.sampled_from(THEME_TAGS), max_size=3, unique=True),
)
def test_packed_scores_equal_the_plain_dot_product(text: str, kw: list[str]) -> None:
    m = default_model()
    fast = m.scores(text, kw)
    slow = m.reference_scores(text, kw)
    assert fast == pytest.approx(slow, abs=1e-9)
    assert classify(text, kw) == classify(text, kw)  # the memo answers the same
