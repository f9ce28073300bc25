"""Lead/teaser splitter: the seed, hand-made fixtures for each hard case, and properties."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.eval_split import evaluate, load_jsonl
from streams.text.html import html_blocks
from streams.text.split import SplitResult, Teaser, split, split_html, split_text

REPO = Path(__file__).resolve().parents[2]
OWN_GOLD = REPO / "tests" / "data" / "split_gold.jsonl"


def _shared() -> Path:
    env = os.environ.get("NEWS_SHARED_DIR")
    return Path(env) if env else REPO / ".." / "shared"


def _texts(res: SplitResult) -> list[str]:
    return [t.text for t in res.teasers]


# --- the seed -----------------------------------------------------------------------------------


def test_seed_matches_gold() -> None:
    gold_path = _shared() / "eval-dev" / "seed.gold.json"
    if not gold_path.exists():
        pytest.skip(f"shared data not found at {gold_path} (set NEWS_SHARED_DIR)")
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    res = split_text((_shared() / gold["source"]).read_text(encoding="utf-8"))
    assert res.title == gold["title"]
    assert res.lead == gold["lead"]
    assert _texts(res) == gold["teasers"]
    assert len(set(_texts(res))) == gold["unique_teasers"]
    # The short closing paragraph ("Він також поінформував...") continues the story.
    assert res.lead[-1].startswith("Він також")


# --- fixtures for the hard cases (invented texts) ----------------------------------------------

UK_LEAD = [
    "Мер Вінниці Сергій Моргунов повідомив, що в місті запрацював новий центр надання "
    "адміністративних послуг. Центр розташований у відремонтованій будівлі колишньої пошти.",
    "За словами Моргунова, у вінницькому центрі можна буде оформити паспорт, субсидію та "
    "зареєструвати бізнес.",
    "Він також зазначив, що центр працюватиме без вихідних.",
]
UK_TEASERS = [
    "На Хмельниччині через негоду знеструмлено понад сорок населених пунктів.",
    "Уряд затвердив нові правила перетину кордону для волонтерів.",
    "Київські медики провели унікальну операцію на серці немовляти.",
]


def test_no_teasers_comes_out_whole() -> None:
    res = split_text("\n".join(UK_LEAD))
    assert res.lead == UK_LEAD
    assert res.teasers == []


def test_short_item_with_little_word_overlap_is_not_a_digest() -> None:
    doc = [
        "Міністерство охорони здоров'я оголосило Тернопіль осередком кору.",
        "Лікарі радять прищепити дітей другою дозою раніше, ніж зазвичай.",
    ]
    res = split_text("\n".join(doc))
    assert res.lead == doc
    assert res.teasers == []


def test_teaser_block_after_lead_and_repeats_kept() -> None:
    doc = [*UK_LEAD, *UK_TEASERS, *UK_TEASERS[:2]]
    res = split_text("\n".join(doc))
    assert res.lead == UK_LEAD
    assert _texts(res) == [*UK_TEASERS, *UK_TEASERS[:2]]
    assert [t.position for t in res.teasers] == list(range(len(UK_LEAD), len(doc)))


def test_digest_has_no_lead() -> None:
    digest = [
        "В Одессе открыли после ремонта Потемкинскую лестницу.",
        "Кабинет министров повысил минимальную зарплату с января.",
        "Футболисты «Зари» одержали победу над «Полесьем» со счетом 2:0.",
        "В Карпатах выпал первый снег, сообщили спасатели.",
    ]
    res = split_text("\n".join(digest + digest[:2]))
    assert res.lead == []
    assert res.title is None
    assert _texts(res) == digest + digest[:2]


@pytest.mark.parametrize(
    "marker",
    ["Читайте також:", "Читайте також", "Дивіться також", "Читайте также:", "Смотрите также",
     "Read more:", "Related:"],
)  # fmt: skip
def test_inline_marker_line_is_a_teaser_and_lead_continues(marker: str) -> None:
    inline = f"{marker} Як змінилися тарифи на проїзд у приміських поїздах"
    doc = [UK_LEAD[0], UK_LEAD[1], inline, UK_LEAD[2], *UK_TEASERS]
    res = split_text("\n".join(doc))
    assert res.lead == UK_LEAD
    assert _texts(res) == [inline, *UK_TEASERS]


@pytest.mark.parametrize("marker", ["Читайте також", "Смотрите также", "Related", "Read more"])
def test_marker_only_line_is_boilerplate_and_opens_teasers(marker: str) -> None:
    doc = [*UK_LEAD, marker, *UK_TEASERS]
    res = split_text("\n".join(doc))
    assert res.lead == UK_LEAD
    assert _texts(res) == UK_TEASERS
    assert marker in res.boilerplate


@pytest.mark.parametrize(
    "line",
    ["Реклама", "Читайте нас у Telegram", "Поділитися", "Share this article", "Коментарів немає",
     "фото з відкритих джерел", "Фото: пресслужба ОВА", "Головна » Новини » Суспільство",
     "12 березня 2025, 14:30", "Комментарии", "Ваша підтримка допоможе нам працювати далі"],
)  # fmt: skip
def test_boilerplate_lines_belong_to_neither(line: str) -> None:
    doc = [UK_LEAD[0], line, UK_LEAD[1], UK_LEAD[2], *UK_TEASERS]
    res = split_text("\n".join(doc))
    assert line in res.boilerplate
    assert line not in res.lead
    assert line not in _texts(res)
    assert res.lead == UK_LEAD


def test_story_cut_off_mid_word_ends_the_lead() -> None:
    # Scraped copies often stop mid-word; the broken paragraph is still the story's, and what
    # follows is the teaser block even when a teaser shares the story's subject.
    cut = (
        "Він також розповів, що навесні у місті планують відкрити ще два такі центри, один з "
        "них на Ліво"
    )
    same_subject = "Уряд спростив отримання адміністративних послуг для переселенців у Дії."
    doc = [*UK_LEAD[:2], cut, same_subject, *UK_TEASERS]
    res = split_text("\n".join(doc))
    assert res.lead == [*UK_LEAD[:2], cut]
    assert _texts(res) == [same_subject, *UK_TEASERS]


def test_subheading_inside_the_story_is_lead_but_byline_is_not() -> None:
    doc = [UK_LEAD[0], "Що зміниться", UK_LEAD[1], "Олена Коваль", UK_LEAD[2], *UK_TEASERS]
    res = split_text("\n".join(doc))
    assert res.lead == [UK_LEAD[0], "Що зміниться", UK_LEAD[1], UK_LEAD[2]]
    assert "Олена Коваль" in res.boilerplate
    assert _texts(res) == UK_TEASERS


def test_title_is_first_headline_line() -> None:
    title = "У Вінниці відкрили новий ЦНАП"
    res = split_text("\n".join([title, "", *UK_LEAD, *UK_TEASERS]))
    assert res.title == title
    assert res.lead == UK_LEAD


def test_html_link_density_gives_teasers_away() -> None:
    links = "".join(
        f'<li><a href="https://example.org/{i}">{t}</a></li>' for i, t in enumerate(UK_TEASERS)
    )
    html = (
        "<article><h1>Новий ЦНАП у Вінниці</h1>"
        + "".join(f"<p>{p}</p>" for p in UK_LEAD[:2])
        + "<p><strong>Читайте також:</strong> "
        + '<a href="https://example.org/x">Тарифи на проїзд зросли</a></p>'
        + f"<p>{UK_LEAD[2]}</p><figcaption>Фото: міськрада</figcaption><ul>{links}</ul></article>"
    )
    res = split_html(html)
    assert res.title == "Новий ЦНАП у Вінниці"
    assert res.lead == UK_LEAD
    assert res.teasers[0] == Teaser("Тарифи на проїзд зросли", 3, "https://example.org/x")
    assert _texts(res)[1:] == UK_TEASERS
    assert [t.link for t in res.teasers[1:]] == [f"https://example.org/{i}" for i in range(3)]
    assert "Фото: міськрада" in res.boilerplate


def test_html_br_lines_and_entities() -> None:
    html = "<div><p>Перший &quot;рядок&quot; новини про мости.<br/>Він триває тут.</p></div>"
    res = split(html=html)
    assert res.lead == ['Перший "рядок" новини про мости.', "Він триває тут."]


def test_split_requires_exactly_one_input() -> None:
    with pytest.raises(ValueError):
        split()
    with pytest.raises(ValueError):
        split("a", html="<p>a</p>")


def test_own_gold_set_quality() -> None:
    rows = load_jsonl(OWN_GOLD)
    assert len(rows) >= 12
    figures = evaluate(rows)["all"]
    assert figures["lead"]["f1"] >= 0.9, figures
    assert figures["teasers"]["f1"] >= 0.9, figures


# --- properties ----------------------------------------------------------------------------------

_line = st.one_of(
    st.text(max_size=120),
    st.sampled_from(UK_LEAD + UK_TEASERS + ["Реклама", "Читайте також:", "Read more", ""]),
)
_doc = st.lists(_line, max_size=25).map("\n".join)


def _collapse(s: str) -> str:
    return " ".join(s.split())


@settings(max_examples=300, deadline=None)
@given(_doc)
def test_split_text_total_deterministic_and_never_invents(text: str) -> None:
    a = split_text(text)
    assert a == split_text(text)
    source = _collapse(text)
    for piece in [*a.lead, *_texts(a), *([a.title] if a.title else [])]:
        assert piece and piece == piece.strip()
        assert piece in source


_tag = st.sampled_from(["p", "li", "h1", "h3", "div", "figcaption", "a", "strong", "span", "ul"])


@st.composite
def _html(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(_tag)
        body = draw(_line)
        href = ' href="https://example.org/x"' if tag == "a" else ""
        parts.append(f"<{tag}{href}>{body}</{tag}>" + draw(st.sampled_from(["", "<br>", "\n"])))
    return draw(st.sampled_from(["", "<article>"])) + "".join(parts) + draw(st.text(max_size=20))


@settings(max_examples=300, deadline=None)
@given(_html())
def test_split_html_total_deterministic_and_never_invents(html: str) -> None:
    a = split_html(html)
    assert a == split_html(html)
    source = "\n".join(b.text for b in html_blocks(html))
    for piece in [*a.lead, *_texts(a), *([a.title] if a.title else [])]:
        assert piece and piece in source


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_split_html_survives_arbitrary_text(html: str) -> None:
    split_html(html)
    split(html=html)


def test_paragraph_memo_does_not_change_results() -> None:
    from streams.text import split as split_mod

    doc = "\n".join([*UK_LEAD, "Реклама", *UK_TEASERS, *UK_TEASERS[:1]])
    split_mod.clear_memo()
    cold = split_text(doc)
    assert split_text(doc) == cold  # memoised paragraphs
    split_mod.clear_memo()
    assert split_text(doc) == cold


def test_case_insensitive_wording_matches_like_re_ignorecase() -> None:
    # The wording patterns run on folded lower-case text; re.IGNORECASE also equates "ſ" with
    # "s" and "ı" with "i", which str.lower() alone does not.
    inline = "ſee alſo: Як змінилися тарифи на проїзд у приміських поїздах"
    res = split_text("\n".join([UK_LEAD[0], UK_LEAD[1], inline, UK_LEAD[2], *UK_TEASERS]))
    assert _texts(res) == [inline, *UK_TEASERS]
