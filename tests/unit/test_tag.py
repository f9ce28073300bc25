"""Topic tagger: forms, metonyms, ambiguity, the seed, quality bars and robustness.

Sentences here are the project's own; the shared dev set is read in place (skipped when absent).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.corpus import shared_dir
from bench.eval_tags import OWN_GOLD, dev_path, evaluate, load_rows
from streams.text.tag import (
    ENTITY_TAGS,
    THEME_TAGS,
    TagDef,
    Tagger,
    default_tagger,
    normalize_for_tagging,
    tag,
    tag_entities,
    taxonomy,
)

# ---------------------------------------------------------------- API


def test_api_shape() -> None:
    assert ENTITY_TAGS == (
        "ukraine",
        "russia",
        "usa",
        "nato",
        "eu",
        "north-korea",
        "south-korea",
        "china",
        "crimea",
        "kursk",
        "black-sea",
        "baltics",
        "poland",
        "moldova",
        "belarus",
        "zelensky",
        "putin",
        "trump",
    )
    assert set(THEME_TAGS) >= {
        "war",
        "diplomacy",
        "sanctions",
        "energy",
        "economy",
        "sport",
        "weather",
        "technology",
        "elections",
        "corruption",
    }
    defs = taxonomy()
    assert all(isinstance(d, TagDef) for d in defs)
    assert tuple(d.id for d in defs) == ENTITY_TAGS + THEME_TAGS
    for d in defs:
        assert set(d.labels) == {"uk", "ru", "en"}
        assert d.iptc is None or d.iptc.startswith("medtop:")
    assert all(d.iptc for d in defs if d.kind == "theme")


def test_result_order_and_no_duplicates() -> None:
    text = "Трамп, Путін і Зеленський. Україна, Росія, США. Україна! Trump, Putin."
    got = tag(text)
    order = [t for t in ENTITY_TAGS + THEME_TAGS if t in got]
    assert got == order
    assert len(got) == len(set(got))
    assert got[:6] == ["ukraine", "russia", "usa", "zelensky", "putin", "trump"]


# ---------------------------------------------------------------- forms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # inflection (uk/ru), multiword names inflected word by word
        ("Удари по Курській області тривали всю ніч.", {"kursk"}),
        ("Військові Північної Кореї вже на фронті.", {"north-korea"}),
        ("Переговоры с Северной Кореей зашли в тупик.", {"north-korea"}),
        ("Делегація Республіки Корея прибула до Брюсселя.", {"south-korea"}),
        ("У Сполучених Штатах Америки обговорюють мито.", {"usa"}),
        ("Заява Путіна і відповідь Зеленському.", {"putin", "zelensky"}),
        ("Встреча Трампа с Путиным не состоялась.", {"trump", "putin"}),
        # adjectives and nationality nouns
        ("Російські та білоруські військові провели навчання.", {"russia", "belarus"}),
        ("Северокорейские солдаты и китайские инженеры.", {"north-korea", "china"}),
        ("Польські перевізники і литовські митники.", {"poland", "baltics"}),
        ("Українці та молдовани стоять у черзі на кордоні.", {"ukraine", "moldova"}),
        ("Американсько-китайські переговори відклали.", {"usa", "china"}),
        # metonyms and institutions
        ("Кремль відмовився коментувати.", {"russia"}),
        ("Білий дім не підтвердив інформацію.", {"usa"}),
        ("В Белом доме это опровергли.", {"usa"}),
        ("Єврокомісія запропонувала новий пакет.", {"eu"}),
        ("Чорноморський флот відвели до Новоросійська.", {"black-sea"}),
        ("Кримський міст знову перекрили.", {"crimea"}),
        ("Вибухи пролунали в Севастополі та Джанкої.", {"crimea"}),
        ("Лукашенко провів нараду.", {"belarus"}),
        # acronyms (surface forms, never lemmatised)
        ("НАТО і ЄС посилюють підтримку.", {"nato", "eu"}),
        ("КНДР та РФ підписали угоду.", {"north-korea", "russia"}),
        ("ЗСУ і СБУ провели спецоперацію.", {"ukraine"}),
        ("ВСУ отразили атаку, сообщили в ФСБ.", {"ukraine", "russia"}),
        (
            "The EU and NATO met in Vilnius; DPRK missiles were discussed.",
            {"eu", "nato", "north-korea"},
        ),
        ("U.S. officials said the FSB was involved.", {"usa", "russia"}),
        # English inflection and possessives, typographic apostrophes
        ("Ukraine’s allies and Russia's neighbours; Ukrainians voted.", {"ukraine", "russia"}),
        ("Zelenskyy's office and Trump's envoy.", {"zelensky", "trump"}),
        # normalisation: ё, soft hyphen, apostrophes, NBSP, case
        ("Придністров’я і Придністровʼя — одне й те саме.", {"moldova"}),
        ("Соединённые Штаты ввели пошлины.", {"usa"}),
        ("Укра\u00adїна отримала допомогу.", {"ukraine"}),
        ("ПІВНІЧНА\u00a0КОРЕЯ ЗАПУСТИЛА РАКЕТУ", {"north-korea"}),
        # pro-/anti- adjectives, adjectival leader names, dotted acronyms
        ("Проросійські сили та антиукраїнська пропаганда.", {"ukraine", "russia"}),
        ("Путінський режим і трампівські мита.", {"putin", "trump"}),
        ("E.U. and U.S. officials met.", {"usa", "eu"}),
    ],
)
def test_forms(text: str, expected: set[str]) -> None:
    assert set(tag_entities(text)) == expected


# ---------------------------------------------------------------- ambiguity


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "Корея" alone and the peninsula are neither Korea
        ("Корея та Японія провели товариський матч.", set()),
        ("Напруга на Корейському півострові зростає.", set()),
        # capital as a city vs as the government
        ("У Києві відкрили нову станцію метро.", set()),
        ("Київ відповів на ультиматум.", {"ukraine"}),
        ("Офіційний Київ поки мовчить.", {"ukraine"}),
        ("Москва вважає це провокацією.", {"russia"}),
        ("В Москве прошел снегопад.", set()),
        ("Вашингтон наполягає на перемир'ї.", {"usa"}),
        ("He moved to Washington in 2010.", set()),
        ("Moscow said it would respond.", {"russia"}),
        # words that contain or look like names
        ("Трамплін і трамвай відремонтували.", set()),
        ("Кримінальна справа і кримінальний кодекс.", set()),
        ("Мир и мирные жители.", set()),
        ("Ната прийшла в гості, а Наті подарували квіти.", set()),
        ("Мы вру не будем, игру отменили.", set()),
        ("Let us talk about us.", set()),
        # other people named like the leaders
        ("Олена Зеленська відкрила саміт перших леді.", set()),
        ("Melania Trump and Ivanka Trump attended.", set()),
        ("Дональд Трамп-молодший дав інтерв'ю.", set()),
        # bodies: Ukraine's unless another country is named
        ("У МЗС заявили про протест.", {"ukraine"}),
        ("МЗС Угорщини викликало посла.", set()),
        # "Латинська Америка" is not the USA
        ("Латинська Америка і Південна Америка.", set()),
        ("Sikorsky helicopters were delivered.", set()),
        # capitals: pairs, inverted order, locative statements, city officials, object forms
        ("Переговори між Києвом і Москвою відновилися.", {"ukraine", "russia"}),
        ("Kyiv and Moscow may hold talks.", {"ukraine", "russia"}),
        ("Потяг між Києвом і Дніпром курсуватиме щодня.", set()),
        ("Потяг сполучатиме Київ і Львів із відправленнями щодня.", set()),
        # Pyongyang is the state in practice (TAGGING.md); Seoul only with a cue
        ("Пхеньян мовчить, стверджує Сеул.", {"north-korea", "south-korea"}),
        ("У Сеулі пройшов фестиваль.", set()),
        ("У Москві заявили, що не визнають рішення.", {"russia"}),
        ("У Москві пройшов сильний снігопад.", set()),
        ("Мер Києва Віталій Кличко повідомив про вибухи.", set()),
        ("Си Цзиньпин посетит Москву, сообщил пресс-секретарь.", {"china"}),
        ("Сенат наполягає на посиленні тиску на Москву.", {"russia"}),
        ("Сайт Мінфін повідомляє курс валют.", set()),
        # symbols and emoji glued to names (Telegram style)
        ("⚡️Трамп заявив про мита", {"trump"}),
        ("🇺🇦Україна та 🇵🇱Польща", {"ukraine", "poland"}),
        ("#НАТО @NATO", {"nato"}),
    ],
)
def test_ambiguity(text: str, expected: set[str]) -> None:
    assert set(tag_entities(text)) == expected


# ---------------------------------------------------------------- themes


def test_themes_need_several_signals() -> None:
    assert "sport" not in tag("Переговори були справжнім матчем.")
    sport = "Збірна України з футболу виграла матч у Празі, тренер похвалив гравців."
    assert "sport" in tag(sport)
    war = "Росія вночі обстріляла Харків ракетами, ППО збила 12 дронів."
    assert "war" in tag(war)
    sanctions = "ЄС ухвалив 17-й пакет санкцій проти тіньового флоту РФ."
    assert "sanctions" in tag(sanctions)
    assert "sanctions" not in tag("Вчора говорили про санкції.")
    assert "weather" in tag("Синоптики прогнозують сніг і мороз до -10 градусів.")


def test_tag_entities_is_the_entity_part_of_tag() -> None:
    text = (
        "Росія обстріляла енергосистему України: знеструмлення, графіки відключень, удари по ТЕС."
    )
    ents = tag_entities(text)
    assert ents == [t for t in tag(text) if t in ENTITY_TAGS]
    assert "energy" in tag(text)


# ---------------------------------------------------------------- mechanism (own taxonomy)


def test_tagger_mechanism_on_a_small_taxonomy() -> None:
    spec = {
        "contexts": {"gov": {"after": ["said"], "before": ["official"], "window_after": 2}},
        "tags": [
            {
                "id": "x",
                "kind": "entity",
                "labels": {"uk": "x", "ru": "x", "en": "x"},
                "iptc": None,
                "en": ["Xland"],
                "cased": ["XL"],
                "surface": ["xla-"],
                "context": [{"rule": "gov", "en": ["Xcity"]}],
                "not": {"en": ["Xland Airlines"]},
            },
            {
                "id": "t",
                "kind": "theme",
                "labels": {"uk": "t", "ru": "t", "en": "t"},
                "iptc": "medtop:15000000",
                "min_score": 3,
                "core": {"en": ["football"]},
                "en": ["goal", "coach"],
            },
        ],
    }
    tg = Tagger(spec)
    assert tg.tag("Xland's army") == ["x"]
    assert tg.tag("xl and XL") == ["x"]
    assert tg.tag("xl only") == []
    assert tg.tag("xla-yla relations") == ["x"]
    assert tg.tag("Xcity is a city") == []
    assert tg.tag("Xcity has said no") == ["x"]  # "has" is not a window word here: 2 words
    assert tg.tag("official Xcity") == ["x"]
    assert tg.tag("Xland Airlines flight") == []
    assert tg.tag("Xland Airlines flight to Xland") == ["x"]
    assert tg.tag("football football football") == []
    assert tg.tag("football and a goal") == ["t"]
    assert tg.tag("goal coach") == []
    hits = tg.hits("Xland Airlines and Xland")
    assert [(h.text, h.fate) for h in hits] == [("Xland", "cancelled"), ("Xland", "match")]


def test_normalisation_keeps_offsets() -> None:
    text = "«Україна» — ЄС’s \u00a0Придністровʼя\nİstanbul"
    low = normalize_for_tagging(text)
    assert len(low) == len(text)
    assert "україна" in low and "придністров'я" in low


# ---------------------------------------------------------------- seed and quality bars


def test_seed_lead_tags() -> None:
    gold = shared_dir() / "eval-dev" / "seed.gold.json"
    if not gold.exists():
        pytest.skip(f"shared data not found at {gold.parent} (set NEWS_SHARED_DIR)")
    seed = json.loads(gold.read_text(encoding="utf-8"))
    lead = "\n".join([seed["title"], *seed["lead"]])
    got = set(tag_entities(lead))
    # NATO's Rutte on DPRK troops in the Kursk region; the RoK delegation; Putin named; no Crimea
    assert got == {"ukraine", "russia", "nato", "north-korea", "south-korea", "kursk", "putin"}
    assert "war" in tag(lead)


def test_own_gold_set() -> None:
    res = evaluate(load_rows(OWN_GOLD))
    assert res["n"] >= 20
    assert res["micro"]["f1"] >= 0.95, res["errors"]


def test_dev_set_bar() -> None:
    path = dev_path()
    if not path.exists():
        pytest.skip(f"shared dev set not found at {path} (set NEWS_SHARED_DIR)")
    res = evaluate(load_rows(path))
    assert res["micro"]["f1"] >= 0.93
    assert res["micro"]["precision"] >= 0.93


def test_long_text_tags_repeatably() -> None:
    """A long text tags the same way every time (speed is measured in bench/tag_speed.py,
    not asserted here: a timed assertion fails on a loaded CI machine, not on a slow tagger)."""
    tg = default_tagger()
    text = (
        "Генсек НАТО Марк Рютте заявив, що північнокорейські війська розгорнуті в Курській "
        "області РФ. Сеул поінформував союзників, а Київ відповів на заяви Кремля. "
    ) * 12
    text = text[:2048]
    first = tg.tag(text)
    assert {"nato", "north-korea"} <= set(first)
    assert all(tg.tag(text) == first for _ in range(20))


# ---------------------------------------------------------------- robustness

_ALPHABET = st.sampled_from(
    list("абвгґдеєжзиіїйклмнопрстуфхцчшщьюяыэёъ АБВГҐДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЬЮЯ")
    + list("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + list("’ʼ'`‘-–—.,;:!?«»\"()\n\t\u00a0\u00ad\u200b\u0301İß")
)
_WORDS = st.sampled_from(
    [
        "Україна",
        "НАТО",
        "Кремль",
        "Київ",
        "заявив",
        "Москва",
        "Північна",
        "Корея",
        "Республіки",
        "US",
        "Trump",
        "Трамп-молодший",
        "Меланія",
        "МЗС",
        "Угорщини",
        "санкції",
        "Alliance",
        "Xi",
    ]
)
_TEXTS = st.one_of(
    st.text(),
    st.text(alphabet=_ALPHABET),
    st.lists(st.one_of(_WORDS, st.text(alphabet=_ALPHABET, max_size=5)), max_size=30).map(" ".join),
)
_KNOWN = set(ENTITY_TAGS) | set(THEME_TAGS)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_never_raises_known_tags_deterministic(text: str) -> None:
    got = tag(text)
    assert set(got) <= _KNOWN
    assert got == tag(text)
    assert len(got) == len(set(got))
    assert tag_entities(text) == [t for t in got if t in ENTITY_TAGS]
    for h in default_tagger().hits(text):
        assert h.tag in _KNOWN


def test_non_string_and_empty_input() -> None:
    assert tag("") == []
    assert tag_entities("   \n ") == []
    assert tag(None) == []  # type: ignore[arg-type]


# ---------------------------------------------------------------- fast paths = full path


def _full_path(text: str) -> list[str]:
    """tag() the slow way: every hit through _match, then cancelling and scoring."""
    from streams.text import tag as tag_mod

    tg = default_tagger()
    if not text:
        return []
    pos, neg = tg._match(tag_mod._visible(text), False)
    return tg._found_spans(pos, neg)


def test_cp1251_table_equals_slow_normalisation() -> None:
    from streams.text import tag as tag_mod

    chars = bytes(i for i in range(256) if i != 0x98).decode("cp1251")
    assert normalize_for_tagging(chars) == tag_mod._normalize_slow(chars)
    for text in ("Ё, ЇЖАК!  US—EU…", "«Альянс» ’s `x´", "Укр\u00adаїна", "⚡️Трамп", "ΟΔΟΣ Київ"):
        assert normalize_for_tagging(text) == tag_mod._normalize_slow(text)


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_fast_path_equals_full_match(text: str) -> None:
    assert tag(text) == _full_path(text)


def test_fast_path_equals_full_match_on_own_gold() -> None:
    extra = [
        "Українська правда: Київ заявив, що Вашингтон і Латинська Америка домовилися.",
        "Між Києвом і Москвою. Kyiv and Moscow said. Брюсселем та Кремлем.",
        "Меланія Трамп і Трамп-молодший. Курський вокзал; Курськ заявив.",
        "Москва. " * 10 + "Москва заявила. Київ і Москва",
    ]
    for text in [r["text"] for r in load_rows(OWN_GOLD)] + extra:
        assert tag(text) == _full_path(text), text
