"""The error classes of issue 8 (splits on unseen sites), one test each, on invented texts.

Every paragraph below was written for this file (uk/ru/en); none comes from the shared data.
The default splitter (trained model + constrained decode) is tested; where the hand rules
differ, the test says so in its docstring.
"""

from __future__ import annotations

import pytest

from streams.text.split import SplitResult, split_html, split_text
from streams.text.split.rules import _feat, prepare

# Every invented fixture below splits exactly (no known-gap marks are left). On unseen sites the
# model still misses issue 8's lead target (leave-sites-out lead F1 0.954, teaser F1 0.978:
# README, "Quality and speed"); those errors need to know which event a paragraph reports.


def _t(res: SplitResult) -> list[str]:
    return [t.text for t in res.teasers]


STORY_UK = [
    "У Житомирі комунальники почали ремонт водогону на вулиці Київській, який пошкодився "
    "після сильних морозів. Роботи триватимуть щонайменше тиждень.",
    "За словами директора водоканалу Андрія Левченка, без води залишилися близько трьох тисяч "
    "мешканців центральної частини міста. Для них організували підвезення питної води.",
    "Левченко зазначив, що трубу прокладали ще у 1970-х роках і її давно потрібно замінити "
    "повністю.",
]
TEASERS_UK = [
    "Херсонські аграрії розпочали сівбу ярих культур на тиждень раніше, ніж торік.",
    "У Львові відкрили оновлену бібліотеку для дітей з особливими потребами.",
    "Збірна України з волейболу вийшла до півфіналу чемпіонату Європи.",
    "Кабмін змінив порядок виплати допомоги на проживання для переселенців.",
]
STORY_RU = [
    "В Днепре спасатели в течение ночи тушили пожар на складе строительных материалов в "
    "Самарском районе. Огонь охватил площадь около пятисот квадратных метров.",
    "По данным ГСЧС, к тушению привлекли двенадцать единиц техники и более сорока спасателей. "
    "Пострадавших нет.",
    "Причину возгорания устанавливают следователи полиции.",
]
TEASERS_RU = [
    "В Одессе открылся новый пункт приема гуманитарной помощи для переселенцев.",
    "Нацбанк Украины оставил учетную ставку без изменений до конца квартала.",
    "Харьковский театр показал первую премьеру сезона в подземном зале.",
    "В Карпатах спасатели предупредили туристов о сходе лавин.",
]
STORY_EN = [
    "The city of Lviv has opened a new rehabilitation centre for veterans in a former textile "
    "factory, the mayor's office said on Monday. The centre will treat up to 200 people a week.",
    "Officials said the project was funded jointly by the city budget and a grant from a "
    "Canadian foundation, and took eighteen months to complete.",
    "The centre employs 35 doctors and physiotherapists, most of them from the region.",
]
TEASERS_EN = [
    "Heavy snowfall closed three mountain passes in western Ukraine overnight.",
    "Ukraine's grain exports rose by a tenth in February, the agriculture ministry said.",
    "A Kyiv start-up has raised $4 million to develop drone detection software.",
    "Poland and Ukraine agreed to open a new border crossing for trucks in spring.",
]


def _each_language(uk: str, ru: str, en: str) -> list[tuple[list[str], str, list[str]]]:
    """(story, line, teasers) per language: the invented story and teasers with its ``line``."""
    return [(STORY_UK, uk, TEASERS_UK), (STORY_RU, ru, TEASERS_RU), (STORY_EN, en, TEASERS_EN)]


# --- a lead paragraph called a teaser (the cut came too early) ----------------------------------


@pytest.mark.parametrize(
    ("story", "context", "teasers"),
    _each_language(
        "Раніше в Житомирі вже тричі за зиму виникали пориви на магістральних трубах.",
        "Ранее на этом же складе в прошлом году произошло короткое замыкание.",
        "In January, the city opened a similar centre for children with disabilities.",
    ),
)
def test_context_paragraph_stays_in_the_lead(
    story: list[str], context: str, teasers: list[str]
) -> None:
    """ "Раніше…/Ранее…/In January…" paragraphs recap earlier events: still the story."""
    doc = [*story, context, *teasers]
    res = split_text("\n".join(doc))
    assert res.lead == [*story, context]
    assert _t(res) == teasers


@pytest.mark.parametrize(
    ("story", "short", "teasers"),
    _each_language(
        "Роботи фінансує міська рада.",
        "Работы оплатит городской бюджет.",
        "The city paid for the works.",
    ),
)
def test_short_last_paragraph_stays_in_the_lead(
    story: list[str], short: str, teasers: list[str]
) -> None:
    res = split_text("\n".join([*story, short, *teasers]))
    assert res.lead == [*story, short]
    assert _t(res) == teasers


def test_short_last_paragraph_changes_nothing_but_itself() -> None:
    """The uk story with and without its short last paragraph: only that paragraph moves (into
    the lead) and nothing else moves."""
    short = "Роботи фінансує міська рада."
    base = split_text("\n".join([*STORY_UK, *TEASERS_UK]))
    res = split_text("\n".join([*STORY_UK, short, *TEASERS_UK]))
    assert short in res.lead
    assert [p for p in res.lead if p != short] == base.lead
    assert _t(res) == _t(base)


def test_structured_story_weather_by_region_stays_in_the_lead() -> None:
    forecast = [
        "Синоптики Укргідрометцентру попередили про різке похолодання в більшості областей "
        "України у вихідні.",
        "На заході країни очікується мокрий сніг, температура вночі від 0 до мінус 3 градусів.",
        "На півночі та в центрі - без опадів, вночі до мінус 5, вдень близько нуля.",
        "На півдні та сході - дощ, вдень від плюс 2 до плюс 6 градусів.",
        "У Києві в суботу вночі до мінус 4, вдень до плюс 1.",
    ]
    doc = [*forecast, *TEASERS_UK]
    res = split_text("\n".join(doc))
    assert res.lead == forecast
    assert _t(res) == TEASERS_UK


# --- a teaser kept in the lead (the cut came too late) -------------------------------------------


def test_teasers_on_the_same_broad_subject_are_teasers() -> None:
    same_subject = [
        "У Рівному через аварію на тепломережі без опалення залишилися два мікрорайони.",
        "Уряд виділив додаткові кошти на заміну зношених водогонів у малих містах.",
        "В Ужгороді через ремонт каналізації перекрили рух центральною вулицею.",
    ]
    doc = [*STORY_UK, *same_subject, *TEASERS_UK[:2]]
    res = split_text("\n".join(doc))
    assert res.lead == STORY_UK
    assert _t(res) == [*same_subject, *TEASERS_UK[:2]]


@pytest.mark.parametrize(
    ("story", "teasers"),
    [
        (STORY_UK, TEASERS_UK),
        (STORY_RU, TEASERS_RU),
        (STORY_EN, TEASERS_EN),
    ],
)
@pytest.mark.parametrize("sep", ["\n", "\n\n"])
def test_single_and_double_newline_paragraphs(
    story: list[str], teasers: list[str], sep: str
) -> None:
    res = split_text(sep.join([*story, *teasers]))
    assert res.lead == story
    assert _t(res) == teasers


# --- boilerplate kept in the lead ----------------------------------------------------------------

# An image's alt text (often the headline, "Фото:" and a description) ending with a bracketed
# stock or agency credit: a caption at any length.
BRACKETED_CREDIT_CAPTIONS = [
    "Водоканал пояснив, коли у центрі Житомира знову буде вода після аварії на магістралі "
    "Фото: ремонтна бригада на вулиці Київській у Житомирі працює всю ніч (Getty Images)",
    "Когда в центре Житомира снова будет вода: ответ водоканала на вопросы жителей "
    "Ремонтная бригада на улице Киевской работала всю ночь без перерыва (фото: Getty Images)",
    "Workers repair a burst water main on Kyivska Street in Zhytomyr, Ukraine, after three "
    "nights of frost left the city centre without water, February 14, 2026. (Reuters",
]


@pytest.mark.parametrize(
    "line",
    [
        "Нове на сайті",
        "- Дата публікації",
        "Житомир водоканал ремонт водогону зима морози Житомир комунальні послуги",
        "Скриншот з відео міськради",
        "Фото: пресслужба водоканалу",
        "12:40, 14 лютого 2026",
        "Автор: Ольга Мельник",
        # bare field labels, update notices and site notices
        "Автор:",
        "- Дата:",
        "Доповнено.",
        "Новина оновлюється…",
        "Щоб повідомити про помилку, виділіть її та натисніть Ctrl + Enter.",
        "Сайт використовує файли cookie для зручності читачів.",
        "Ваша e-mail адреса не оприлюднюватиметься.",
        "Your browser does not support the audio element.",
        "Цей запис опубліковано більш як рік тому",
        "Завантаження новини...",
        # image markup, hashtag runs, view counters, "updated with details" heads
        "![Ремонт водогону на вулиці Київській](https://example.org/img/vodogin-remont.jpg)",
        '<image>data:image/png;base64,iVBORw0KGgo= alt="Ремонт водогону"',
        "#Житомир #водоканал #ремонт",
        "• 1 204 перегляди",
        "Доповнено додатковими матеріалами",
        # captions ending with their credit, however long
        "Робітники водоканалу біля пошкодженої труби на вулиці Київській / Фото: Олена Коваль",
        "Workers repair a burst water main on Kyivska Street in Zhytomyr, Ukraine, February 14,"
        " 2026. REUTERS/Olena Koval",
        "Андрій Левченко на місці аварії/УНІАН",
        "Ремонт водогону взимку / Depositphotos",
        "Водогін, ремонт, фото з відкритих джерел",
        "Водогін на Київській / фото УНІАН",
        "Андрій Левченко. Скриншот відео міськради",
        # counters, the site's social-media block, a labelled byline of several names
        "/ 3 коментарі",
        "Перегляди",
        "Житомир.Інфо у соціальних мережах",
        "Author: Olha Melnyk, Ivan Petrenko and Mariia Koval, Zhytomyr desk",
        # copyright and sponsor notices, an empty rating widget, archive navigation, a newsroom
        # byline, a photo credit without a colon
        "Усі права на матеріали сайту належать редакції та охороняються законом про авторське "
        "право.",
        "Все права защищены. Использование материалов разрешено только со ссылкой на редакцию.",
        "Сайт створено за підтримки міжнародного фонду",
        "All rights reserved.",
        "No votes yet.",
        "Оценок пока нет",
        "Новини по днях",
        "Редакция сайта Житомир Сегодня",
        "Титульне фото надано пресслужбою",
        *BRACKETED_CREDIT_CAPTIONS,
    ],
)
def test_furniture_in_the_story_is_boilerplate(line: str) -> None:
    """The furniture line is boilerplate and changes nothing else: the split is the one of the
    same text without it."""
    doc = [STORY_UK[0], line, *STORY_UK[1:], *TEASERS_UK]
    res = split_text("\n".join(doc))
    base = split_text("\n".join([*STORY_UK, *TEASERS_UK]))
    assert line not in res.lead
    assert line not in _t(res)
    assert res.title != line
    assert res.lead == base.lead
    assert res.lead[: len(STORY_UK)] == STORY_UK
    assert _t(res) == _t(base)


def test_tag_word_run_after_the_story_is_boilerplate() -> None:
    tags = "водоканал, Житомир, ремонт, комунальні послуги"
    doc = [*STORY_UK, tags, *TEASERS_UK]
    res = split_text("\n".join(doc))
    assert tags in res.boilerplate
    assert res.lead == STORY_UK
    assert _t(res) == TEASERS_UK


@pytest.mark.parametrize("section", ["Новини", "Новости", "News"])
def test_section_name_first_line_is_not_the_title(section: str) -> None:
    """The section name is furniture. The headline under it is the story's (LABELING.md only
    labels index 0 as a title, so here it may come out as the title or as the first lead
    paragraph: both score as lead)."""
    head = "У Житомирі ремонтують водогін після морозів"
    res = split_text("\n".join([section, head, *STORY_UK, *TEASERS_UK]))
    # Without the section line: the section line changes nothing else.
    base = split_text("\n".join([head, *STORY_UK, *TEASERS_UK]))
    assert res.title != section
    assert section in res.boilerplate
    story = [*([res.title] if res.title else []), *res.lead]
    assert story == [*([base.title] if base.title else []), *base.lead]
    assert story[: len(STORY_UK) + 1] == [head, *STORY_UK]
    assert _t(res) == _t(base)


def test_section_name_heading_in_html_is_not_the_title() -> None:
    html = (
        "<article><h2>Новини</h2><h1>У Житомирі ремонтують водогін</h1>"
        + "".join(f"<p>{p}</p>" for p in STORY_UK)
        + "".join(
            f'<p><a href="https://example.org/{i}">{t}</a></p>' for i, t in enumerate(TEASERS_UK)
        )
        + "</article>"
    )
    res = split_html(html)
    assert res.title != "Новини"
    assert "Новини" in res.boilerplate
    assert [*([res.title] if res.title else []), *res.lead] == [
        "У Житомирі ремонтують водогін",
        *STORY_UK,
    ]
    assert _t(res) == TEASERS_UK


# --- boilerplate kept among the teasers ----------------------------------------------------------


@pytest.mark.parametrize("line", ["Back to top button", "Наверх", "Повернутися вгору"])
def test_back_to_top_among_teasers_is_boilerplate(line: str) -> None:
    doc = [*STORY_EN, *TEASERS_EN[:2], line, *TEASERS_EN[2:]]
    res = split_text("\n".join(doc))
    assert line in res.boilerplate
    assert line not in _t(res)
    assert _t(res) == TEASERS_EN
    assert res.lead == STORY_EN


@pytest.mark.parametrize("line", ["Lviv Daily News", "Житомир.Інфо", "ZHYTOMYR-NEWS.COM.UA"])
def test_site_name_line_among_teasers_is_boilerplate(line: str) -> None:
    doc = [*STORY_EN, *TEASERS_EN[:2], line, *TEASERS_EN[2:]]
    res = split_text("\n".join(doc))
    assert line not in _t(res)
    assert line not in res.lead
    assert _t(res) == TEASERS_EN


# --- a lead or teaser paragraph missing from the output -----------------------------------------


def test_every_story_and_teaser_paragraph_is_in_the_output() -> None:
    doc = [*STORY_RU, "Реклама", *TEASERS_RU, *TEASERS_RU[:2]]
    res = split_text("\n".join(doc))
    out = [*res.lead, *_t(res), *res.boilerplate]
    for p in doc:
        assert p in out
    assert res.lead == STORY_RU
    assert _t(res) == [*TEASERS_RU, *TEASERS_RU[:2]]


@pytest.mark.parametrize(
    ("story", "teasers"),
    [(STORY_UK, TEASERS_UK), (STORY_RU, TEASERS_RU), (STORY_EN, TEASERS_EN)],
)
def test_story_paragraph_doubled_back_to_back_stays_in_the_lead(
    story: list[str], teasers: list[str]
) -> None:
    """A page that prints a story paragraph twice in a row: both copies are story, not a
    repeated teaser (a teaser block's repeats never follow themselves)."""
    doubled = [story[0], story[1], story[1], *story[2:]]
    res = split_text("\n\n".join([*doubled, *teasers]))
    assert res.lead.count(story[1]) == 2
    assert story[1] not in _t(res)


@pytest.mark.parametrize(
    "marker", ["В ТЕМУ: ", "КСТАТИ: ", "НОВИНИ ДНЯ: ", "Читайте по темі: ", "До речі: "]
)
def test_colon_marker_line_is_a_teaser(marker: str) -> None:
    """ "В тему:", "Кстати:", "Новини дня:" lines introduce another story, like "Читайте
    також:"; the story around them stays whole."""
    line = marker + TEASERS_UK[3]
    assert _feat(line).marker_prefix_end() == len(marker)
    res = split_text("\n\n".join([*STORY_UK[:2], line, *STORY_UK[2:], *TEASERS_EN]))
    assert line in _t(res)
    assert res.lead[:2] == STORY_UK[:2]
    assert not set(TEASERS_EN) & set(res.lead)


@pytest.mark.parametrize("marker", ["Вам також може сподобатися", "Вам может понравиться:"])
def test_you_may_also_like_line_announces_teasers(marker: str) -> None:
    """ "Вам також може сподобатися" heads a recommendation block, like "You may also like"."""
    assert _feat(marker).is_marker()
    res = split_text("\n\n".join([*STORY_UK, marker, *TEASERS_UK]))
    assert res.lead == STORY_UK
    assert _t(res) == TEASERS_UK
    assert marker in res.boilerplate


@pytest.mark.parametrize(
    "line", ["Більше новин читайте на Zhytomyr-Today.", "Больше новостей на zhitomir-news.ua"]
)
def test_more_news_on_the_site_line_is_furniture_not_a_teaser(line: str) -> None:
    """ "Більше новин" opens a teaser line like "Read also", but "... на <site>" points at the
    site, not at another story."""
    res = split_text("\n\n".join([*STORY_UK, line, *TEASERS_UK]))
    assert line in res.boilerplate
    assert _t(res) == TEASERS_UK
    assert res.lead == STORY_UK


@pytest.mark.parametrize("opening", ["Кстати, ", "До речі, "])
def test_by_the_way_in_prose_is_not_a_marker(opening: str) -> None:
    para = opening + "роботи на магістралі тривали всю ніч, розповіли у водоканалі."
    assert _feat(para).marker_prefix_end() == -1
    assert _feat(opening.rstrip(", ") + " роботи тривали всю ніч.").marker_prefix_end() == -1
    res = split_text("\n\n".join([STORY_UK[0], para, *STORY_UK[1:], *TEASERS_UK]))
    assert para in res.lead


@pytest.mark.parametrize(
    "line",
    [
        "Google will stop supporting third-party cookies in Chrome next year.",
        "Завантаження зерна в портах Одеси відновили після атаки.",
        "Автор законопроєкту пояснив, навіщо змінювати порядок.",
        "Нет голосов, которые могли бы изменить решение горсовета, сказал мэр.",
        "Сайт створено для того, щоб мешканці могли повідомляти про аварії.",
        "Права на землю під водогоном місто оформить до кінця року.",
        # an agency in brackets marks a caption only after a sentence
        "The ministry said talks with the city would resume next week, the agency reported (AFP)",
    ],
)
def test_story_lines_near_the_notice_patterns_are_not_furniture(line: str) -> None:
    """The furniture patterns above name whole notices, not their words: a story sentence that
    mentions cookies, loading, an author, votes, a site or rights, or ends with an agency's name
    in brackets, is story."""
    assert not _feat(line).is_boiler()


@pytest.mark.parametrize(
    ("story", "line", "teasers"),
    _each_language(
        "Про це повідомила пресслужба міськради у Telegram.",
        "Об этом сообщает пресс-служба ГСЧС в Facebook.",
        "This was reported by the city council on Telegram.",
    ),
)
def test_attribution_line_naming_a_network_stays_in_the_lead(
    story: list[str], line: str, teasers: list[str]
) -> None:
    """LABELING.md: "Про це повідомляє ..." attribution lines are story, even when they name
    a network (the share-line patterns had fixed short ones as boilerplate)."""
    assert not _feat(line).is_boiler()
    res = split_text("\n\n".join([*story[:2], line, story[2], *teasers]))
    assert line in res.lead
    assert _t(res) == teasers


@pytest.mark.parametrize(
    "line",
    [
        "Про це та інше читайте у нашому Telegram",
        "Об этом читайте нас в Telegram",
        "Про це та інше — у нашому Telegram-каналі",
    ],
)
def test_subscribe_line_opening_like_an_attribution_is_still_furniture(line: str) -> None:
    assert _feat(line).is_boiler()


@pytest.mark.parametrize(
    "notice",
    [
        "Наш сайт використовує файли cookie, щоб покращити роботу сторінок, запам'ятати ваші "
        "налаштування та показувати вам цікавіші матеріали. Продовжуючи перегляд сторінок, ви "
        "погоджуєтеся з умовами використання сайту та політикою конфіденційності редакції.",
        "This website uses cookies to improve your browsing experience, remember your settings "
        "and show you more relevant stories. By continuing to browse the pages of this site you "
        "agree to our terms of use and to the privacy policy of the newsroom.",
    ],
)
def test_long_cookie_notice_above_the_story_is_boilerplate(notice: str) -> None:
    """A cookie notice of a few dozen words is past the short-furniture checks; taken for the
    story's opening it had pulled the headline and the story after it into the teasers."""
    assert len(notice) > 160
    res = split_text("\n\n".join([notice, *STORY_UK, *TEASERS_UK]))
    assert notice in res.boilerplate
    assert res.lead == STORY_UK
    assert _t(res) == TEASERS_UK


def test_story_paragraph_after_inline_image_markup_is_not_furniture() -> None:
    """Only a line that is nothing but image markup is fixed as furniture: a story paragraph
    with an image inlined before it keeps its text in the story."""
    para = "![Водогін](https://example.org/img/vodogin.jpg) " + STORY_UK[1]
    f = _feat(para)
    assert not f.is_boiler()
    assert not f.is_long_furniture()
    res = split_text("\n\n".join([STORY_UK[0], para, STORY_UK[2], *TEASERS_UK]))
    assert para in res.lead


@pytest.mark.parametrize(
    "headline",
    [
        "«Житомирводоканал» почав ремонт водогону на Київській",
        "Із «Дією» компенсацію за ремонт водогону оформлять швидше",
        "Мер про аварію: «трубу замінять» і «воду підвезуть»",
    ],
)
def test_headline_with_quoted_names_is_the_title(headline: str) -> None:
    """The » that closes a quoted name is not a breadcrumb separator: such a headline had been
    fixed as navigation and lost as the title."""
    assert not _feat(headline).is_boiler()
    res = split_text("\n\n".join([headline, *STORY_UK, *TEASERS_UK]))
    assert res.title == headline
    assert res.lead == STORY_UK


def test_breadcrumb_with_a_quoted_name_is_still_furniture() -> None:
    assert _feat("Новини » «Житомирводоканал» » Ремонт").is_boiler()


def test_headline_naming_a_few_places_is_the_title() -> None:
    """Half its words capitalised is not yet a tag run: a seven-word headline may name three
    things."""
    headline = "Сьогодні Житомирська Міськрада затвердить ремонт водогону Київської"
    assert not _feat(headline).is_boiler()
    res = split_text("\n\n".join([headline, *STORY_UK, *TEASERS_UK]))
    assert res.title == headline
    assert res.lead == STORY_UK


def test_english_title_case_subheading_stays_in_the_story() -> None:
    sub = "City Council Approves New Funding For Veterans Rehabilitation Centre"
    assert not _feat(sub).is_boiler()
    res = split_text("\n\n".join([*STORY_EN[:2], sub, STORY_EN[2], *TEASERS_EN]))
    assert sub in res.lead
    assert _t(res) == TEASERS_EN


def test_story_sentence_ending_with_a_url_is_not_a_breadcrumb() -> None:
    """The slashes of a URL are not breadcrumb separators."""
    line = (
        "Про аварії водоканал просить повідомляти через сайт: https://vodokanal.zt.ua/avarii/form"
    )
    assert not _feat(line).is_boiler()
    res = split_text("\n\n".join([*STORY_UK, line, *TEASERS_UK]))
    assert line in res.lead


def test_long_story_paragraph_ending_with_a_photo_credit_stays_in_the_story() -> None:
    """A photo credit closes short captions; a story paragraph may end with one too, and an
    agency credit after a slash marks a caption at any length."""
    para = (
        "Рятувальники працювали на місці аварії всю ніч: вони відкачували воду з підвалів "
        "житлових будинків і допомагали комунальникам перекрити пошкоджену ділянку водогону "
        "(фото: ДСНС)"
    )
    assert len(para) > 160
    assert not _feat(para).is_long_furniture()
    # The rules leave it to the scorer (which weighs the credit word as evidence of a caption).
    units, _, _ = prepare([*STORY_UK[:2], para, STORY_UK[2], *TEASERS_UK], None)
    assert not units[2].fixed
    caption = (
        "Workers repair a burst water main on Kyivska Street in Zhytomyr, Ukraine, after "
        "three nights of frost left the city centre without water, February 14, 2026. "
        "REUTERS/Olena Koval"
    )
    assert len(caption) > 160
    assert _feat(caption).is_long_furniture()


@pytest.mark.parametrize("caption", BRACKETED_CREDIT_CAPTIONS)
def test_bracketed_credit_marks_a_caption_past_the_short_line_limit(caption: str) -> None:
    assert len(caption) > 160
    assert _feat(caption).is_long_furniture()


@pytest.mark.parametrize("fragment", ["На минулих", "У до", "Пр", "«Ми зробимо"])
def test_story_cut_off_after_a_word_or_two_keeps_its_fragment(fragment: str) -> None:
    """LABELING.md: a truncated last paragraph is still story. Cut after a word or two it had
    been fixed as a tag-like line; a sentence's opening (a short first word, an open quote)
    right after the story's last paragraph is its cut-off end."""
    res = split_text("\n\n".join([*STORY_UK, fragment, *TEASERS_UK]))
    assert res.lead == [*STORY_UK, fragment]
    assert _t(res) == TEASERS_UK


@pytest.mark.parametrize("line", ["Ірина Тетеріна", "Схожі статті", "Freepik", "DMCA"])
def test_name_or_label_after_the_story_stays_furniture(line: str) -> None:
    res = split_text("\n\n".join([*STORY_UK, line, *TEASERS_UK]))
    assert line in res.boilerplate
    assert res.lead == STORY_UK
