"""The splitter's hand rules: uk/ru/en lexicon and patterns, paragraph facts (memoised), the
roles rules fix, and today's hand-weighted one-cut search (``HandScorer`` in ``model.py`` is
these rules alone; the trained model starts from their output and facts).

Scraped items look like: optional headline, the story's paragraphs (sometimes with an inline
"Читайте також ..." line), then a block of teasers of unrelated - or only broadly related -
stories, often repeated, with ads/share/caption lines sprinkled in. No single length threshold
separates them, so the splitter:

1. labels the blocks that give themselves away (boilerplate patterns, "Read more"-style markers,
   link-dominated HTML blocks, paragraphs that occur twice) - these are fixed;
2. for the remaining blocks searches the cut point k (lead = free blocks before k, teasers = after)
   maximising a score built from lexical cohesion with the lead context (content-word stems and
   named entities shared with the title and earlier lead paragraphs), anaphoric openings that
   bind a paragraph to the previous one, and paragraph shape (multi-sentence body vs 1-2 sentence
   lede).

Everything is a pure function of the input; all lead/teaser strings are (trimmed) input paragraphs,
or for "Читайте також: <headline>" HTML blocks the headline part of that paragraph.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice

import ahocorasick

from streams.text.html import Block

__all__ = ["SplitResult", "Teaser", "clear_memo", "prepare"]


@dataclass(frozen=True, slots=True)
class Teaser:
    text: str
    position: int  # index of the block in the document's block sequence (0-based)
    link: str | None  # href when the HTML gives one


@dataclass(frozen=True, slots=True)
class SplitResult:
    title: str | None
    lead: list[str]  # paragraphs, in order
    teasers: list[Teaser]  # document order, repeats kept
    boilerplate: list[str]  # lines that belong to neither


# --------------------------------------------------------------------------------------------------
# Patterns. All compiled once; case-insensitive where wording, not casing, is the signal.

_I = re.IGNORECASE
_WS = re.compile(r"\s+")

# "Read also"-style markers (uk/ru/en). As a whole line they are boilerplate announcing a teaser;
# as a prefix they make the rest of the line a teaser headline.
_MARKER = (
    r"(?:читайте|читай|дивіться|дивись|смотрите|читать|слухайте)\s+(?:також|также|тоже|ще|еще|ещё)"
    r"|(?:також|также)\s+(?:читайте|дивіться|смотрите)"
    r"|ще\s+за\s+темою|по\s+темі|по\s+теме|на\s+тему|до\s+теми|к\s+теме|за\s+темою"
    r"|стоит\s+прочесть|варто\s+прочитати|рекомендуємо|рекомендуем|вас\s+може\s+зацікавити"
    r"|вас\s+может\s+заинтересовать|більше\s+новин|больше\s+новостей|інші\s+новини|другие\s+новости"
    r"|схожі\s+новини|похожие\s+новости|останні\s+новини|последние\s+новости|популярне|популярное"
    r"|read\s+(?:more|also|next)|see\s+also|also\s+read|related(?:\s+(?:news|stories|articles))?"
    r"|more\s+(?:news|stories)|you\s+may\s+also\s+like|recommended|trending"
    r"|вам\s+(?:також\s+)?може\s+сподобатис[яь]|вам\s+(?:также\s+)?может\s+понравиться"
    r"|(?:читайте|дивіться|смотрите)\s+(?:по\s+темі|по\s+теме|за\s+темою)"
    # "В ТЕМУ: ...", "КСТАТИ: ...", "НОВИНИ ДНЯ: ...": markers only with their colon (in prose
    # "кстати" and "до речі" open ordinary sentences)
    r"|(?:в\s+тему|кстати|до\s+речі|(?:новини|новости)\s+дня)(?=\s*:)"
)
_MARKER_ONLY = re.compile(rf"^\W*(?:{_MARKER})\W*$", _I)
_MARKER_PREFIX = re.compile(rf"^\W*(?:{_MARKER})\s*(?::|[-–—»>|]|\.{{3}}|…)?\s+(?=\S)", _I)
# The same, for folded text (see _fold): case-folding regexes are several times slower.
_MARKER_ONLY_L = re.compile(rf"^\W*(?:{_MARKER})\W*$")
_MARKER_PREFIX_L = re.compile(rf"^\W*(?:{_MARKER})\s*(?::|[-–—»>|]|\.{{3}}|…)?\s+(?=\S)")
# Patterns ending in _L below are matched case-sensitively against _fold(text), which is what
# the re module's IGNORECASE does for their (lower-case ASCII/Cyrillic) literals, only faster.
# Re's case-insensitive equivalences that str.lower() does not produce (Python 3.11 re/_casefix):
_FOLD = str.maketrans(
    {
        "\u0130": "i", "\u0131": "i", "\u017f": "s", "\u1c80": "в", "\u1c81": "д", "\u1c82": "о",
        "\u1c83": "с", "\u1c84": "т", "\u1c85": "т", "\u1c86": "ъ", "\u1c87": "ѣ",
    }
)  # fmt: skip
_NEEDS_FOLD = re.compile("[\u0130\u0131\u017f\u1c80-\u1c87]")

# Lines that are page furniture, not text of any story.
_BOILER_L = re.compile(
    r"^\W*(?:"
    r"реклама|advertisement|ad|sponsored|партнерський\s+матеріал|на\s+правах\s+реклами"
    r"|коментар[іi]?|комментарии|comments?|коментарів\s+немає|комментариев\s+нет|no\s+comments"
    r"|залишити\s+відповідь|оставьте\s+комментарий.*|leave\s+a\s+(?:reply|comment).*|додати\s+коментар"
    r"|поділитис[ья](?:\s+(?:статтею|новиною))?|поделиться(?:\s+(?:статьей|новостью))?"
    r"|share(?:\s+this)?(?:\s+(?:article|story|post|page))?(?:\s+on\s+\w+)?|tweet|email|print|друк"
    r"|джерело|источник|source|головна|главная|home|зміст|содержание|contents"
    r"|відео\s+дня|видео\s+дня|важливо|важно|новини|новости|news|топ|top|live"
    r"|новини\s+по\s+днях|новости\s+по\s+дням|архів\s+новин|архив\s+новостей|news\s+archive"
    r"|підтримати|поддержать|support\s+us|donate"
    r"|читати\s+(?:українською|російською|англійською)|читать\s+(?:на\s+)?(?:русском|украинском).*"
    r"|читать\s+новость\s+на\s+\w+|читати\s+новину\s+\w+\s*\w*|read\s+in\s+\w+"
    r"|нове\s+на\s+сайті|новое\s+на\s+сайте|new\s+on\s+(?:the\s+)?site"
    r"|дата\s+(?:публікації|публикации|оновлення|обновления)(?:\s*:.*)?"
    r"|(?:опубліковано|опубликовано|published|posted|оновлено|обновлено|updated)(?:\s*[:|]?\s*\d.*)?"
    r"|back\s+to\s+top(?:\s+button)?|scroll\s+to\s+top|наверх|вгору|нагору|догори"
    # bare field labels whose value is on the next line ("Автор:", "- Дата:", "Коротко:")
    r"|автор(?:ка|и)?|author|дата|date|коротко|briefly|теги|tags|мітки|метки"
    # "story being updated" notices
    r"|(?:доповнено|дополнено)(?:\s+(?:новими|додатковими|новыми|дополнительными)"
    r"\s+(?:матеріалами|материалами|деталями|подробностями))?"
    r"|(?:(?:новина|новость|матеріал|материал)\s+)?(?:оновлюється|обновляется|доповнюється|дополняется)"
    r"|(?:this\s+)?(?:story|article)\s+(?:is\s+being|will\s+be)\s+updated"
    r"|(?:загрузка|завантаження|loading)(?:\s+(?:новости|новини|news))?"
    # "more news on <site>" lines: a marker that points at the site, not at a story
    r"|(?:більше|больше|more)\s+(?:новин|новостей|news)\s+(?:читайте\s+|read\s+)?(?:на|в|у|on|at)"
    r"\s+\S.{0,40}"
    # view and comment counters ("• 30805 просмотра", "/ 1 коментар", "Перегляди")
    r"|\d[\d\s]*\s(?:просмотр\w*|перегляд\w*|views?)|перегляди|просмотры"
    r"|\d[\d\s]*\s?(?:коментар\w*|комментари\w*|comments?)"
    # "ТСН у соціальних мережах": the site's social-media block
    r"|(?:[\w.-]+\s+){0,2}(?:у|в|in)\s+(?:соціальних\s+мережах|социальных\s+сетях|соцмережах"
    r"|соцсетях|social\s+media)"
    r"|(?:повернутися|повернутись)\s+(?:вгору|нагору|догори)|вернуться\s+(?:наверх|вверх)"
    r")\W*$"
)
# Site notices that are never part of a story (lower-cased text): the "select a typo and press
# Ctrl + Enter" hint, cookie and browser notices, comment-form and copy-protection notes, "this
# post was published over a year ago".
_NOTICE = re.compile(
    r"ctrl\s*\+\s*enter|(?:файл\w*|uses?|використову\w*|использу\w*|accept\w*)\W+(?:\w+\W+)?cookie"
    r"|(?:e-?mail|електронн\w+)\s+адрес\w*\s+не\s+(?:буде\s+)?оприлюдн"
    r"|адрес\s+(?:e-?mail|электронной\s+почты)\s+не\s+будет\s+опубликован"
    r"|email\s+address\s+will\s+not\s+be\s+published|cannot\s+copy\s+(?:the\s+)?content"
    r"|браузер\s+не\s+(?:поддерживает|підтримує)|browser\s+does\s+not\s+support"
    r"|опубліковано\s+більш\s+як\s+рік\s+тому|опубликован\w*\s+более\s+года\s+назад"
    # copyright and sponsor notices, a rating widget with no votes
    r"|права\s+на\s+(?:всі\s+|все\s+)?(?:матеріал|материал)|(?:усі|всі|все)\s+права\s+(?:захищен|защищен)"
    r"|all\s+rights\s+reserved|сайт\s+(?:створен\w*|создан\w*)\s+(?:за|при)\s+(?:підтримк|поддержк)"
    r"|^(?:no\s+votes\s+yet|(?:ще\s+)?немає\s+(?:голосів|оцінок)|(?:пока\s+)?нет\s+(?:голосов|оценок)"
    r"|(?:голосов|оценок)\s+(?:пока\s+)?нет)\W*$"
)
_NOTICE_MAX_CHARS = 450
# "Author: Editors Desk, Natalie Andrews, and Siobhan Hughes": a labelled byline may list several
# names (lower-cased text).
_AUTHOR_LABEL = re.compile(r"^\W*(?:автор(?:ка|и)?|authors?|текст|by)\s*:\s*\S")
_MEDIA_LINE = re.compile(r"^(?:!\[[^\]]*\]\(\S*\)|<image>.*?</image>\S*|<image>[^<]*)$", re.S)
_HASHTAGS = re.compile(r"^(?:#\w+[\s,;]*)+$")  # a run of hashtags under a post
_NOTICE_WORDS = (
    "ctrl", "cookie", "адрес", "address", "copy", "браузер", "browser", "рік", "года", "права",
    "rights", "сайт", "votes", "немає", "нет",
)  # fmt: skip
# "Автор: Ольга Мельник", "By John Smith", "Текст: ..." (lower-cased text).
_BYLINE = re.compile(
    r"^\W*(?:автор(?:ка|и)?|author|by|текст|редактор(?:ка)?|editor|written\s+by|підготував"
    r"|підготувала|подготовил|подготовила|редакція\s+сайту|редакция\s+сайта)\s*[:\-–—]?\s+[^.!?]{2,60}$"
)
# A site's own name on a line: "glavcom.ua", "ZHYTOMYR-NEWS.COM.UA", "Lviv Daily News".
_SITE_NAME = re.compile(
    r"^\W*(?:[\w-]+\.)+(?:com|net|org|info|ua|ru|eu|media|news|online|live|today|інфо|уа)\W*$"
    r"|^(?:[\w’'-]+\s){0,3}(?:news|daily|times|post|online|media|info|інфо|today|24|tv|тв)\W*$"
)
# A story's attribution line ("Про це повідомила пресслужба ДСНС у Telegram.", "Об этом пишет
# ... в Facebook"): story text by the labelling rules, even when it names a network or a person
# (casefolded text). It opens with the formula and says who reported; a line that also says
# "read" or "subscribe" is a share line all the same ("Про це та інше читайте у Telegram").
_ATTRIBUTION = re.compile(
    r"(?:про\s+це|об\s+этом|у\s+повідомленні|в\s+сообщении|як\s+повідом\w*|как\s+сообщ\w*"
    r"|this\s+was\s+(?:reported|announced|stated))\s"
)
_REPORTED = re.compile(
    r"повідом|сообщ|пиш|писа|заяв|розпов|рассказ|сказа|інформ|информ|йдеться|идет|идёт|зазнач"
    r"|отмет|наголош|подчерк|переда|report|announc|stated|said"
)
_NO_SENT_PUNCT = re.compile(r"^[^.!?…:;,]*$")
_SOCIAL = re.compile(
    r"\b(?:telegram|телеграм\w*|viber|facebook|instagram|youtube|twitter|tiktok|whatsapp)\b"
)
_SOCIAL2 = re.compile(_SOCIAL.pattern + r".*" + _SOCIAL.pattern)  # two networks named
_SOCIAL_WORDS = (
    "telegram", "телеграм", "viber", "facebook", "instagram", "youtube", "twitter", "tiktok",
    "whatsapp",
)  # fmt: skip
_SUBSCRIBE = re.compile(
    r"\b(?:читайте\s+(?:нас|нові|наші|новини|новости|«|\")|підписуйтес[ья]|подписывайтесь|підпишіться"
    r"|подпишитесь|subscribe|follow\s+us|приєднуйтес[ья]|присоединяйтесь|слідкуйте|следите)"
)
_SUBSCRIBE_WORDS = (
    "читайте", "підписуйтес", "подписывайтесь", "підпишіться", "подпишитесь", "subscribe",
    "follow", "приєднуйтес", "присоединяйтесь", "слідкуйте", "следите",
)  # fmt: skip
# Reader-support appeals (lower-cased text): "Ваша підтримка", "support our journalism".
_APPEAL = re.compile(
    r"ваша\s+(?:підтримка|поддержка)|вашу\s+(?:підтримку|поддержку)|підтримайте|поддержите"
    r"|support\s+(?:us|our)|become\s+a\s+(?:member|patron|subscriber)|donat"
    r"|(?:приєднатис[ья]|приєднуйтес[ья]|присоединиться|присоединяйтесь)\s+до\s+клубу"
    r"|(?:присоединиться|присоединяйтесь)\s+к\s+клубу"
)
_APPEAL_WORDS = ("ваш", "підтримайте", "поддержите", "support", "become", "donat", "клубу")
# Photo credits, "5 хв читання" (lower-cased text). Split in three: an unanchored search with
# alternatives is slow in `re`, so the anchored parts are matched and the rest pre-filtered.
_CREDIT_HEAD = re.compile(
    r"\W*(?:фото|photo|фото/відео|відео|видео|video|ілюстрація|иллюстрация|скриншот|скріншот"
    r"|колаж|коллаж|getty|reuters|afp|ap|epa|shutterstock|istock)\b"
)
_CREDIT_ANY = re.compile(
    r"\b(?:фото|photo)\s*:|©|\(c\)\s|з\s+відкритих\s+джерел|из\s+открытых\s+источников"
    r"|\bфото\s+(?:предоставлен|надан)"
    r"|подробнее\s+читайте|докладніше\s+читайте"
)
_CREDIT_ANY_WORDS = ("фото", "photo", "©", "(c)", "відкритих", "открытых", "читайте")
# A caption that ends with its credit (lower-cased text). An agency's or a stock site's credit
# after a slash ("... June 24, 2025. REUTERS/Toby Melville", ".../РИА Новости", "... /
# Depositphotos") marks a caption however long; a photo credit ("... / Фото: Володимир
# Зеленський", "... (інфографіка: meteo.gov.ua)", "... . Скриншот УАФ", "... фото з вільних
# джерел") only a short line: a story paragraph may end with one.
_CREDIT_TAIL = re.compile(
    r"(?:\b(?:reuters|ap\s+photo|afp|epa(?:-efe)?|getty\s+images|anadolu|риа\s+новости|тасс|уніан"
    r"|униан)\s*/\s*[\w.-]+(?:\s[\w.-]+){0,3}"
    r"|/\s*(?:риа\s+новости|тасс|reuters|getty\s+images|afp|epa|уніан|униан|depositphotos"
    r"|shutterstock|unsplash|pexels|pixabay|freepik)"
    # "... (Getty Images)", "... (фото: Getty Images)"; an agency in brackets only after a
    # sentence ("... 2022. (Reuters", cut off): "... said (AFP)" may end a story paragraph
    r"|\(\s*(?:(?:фото|photo)\s*:\s*)?(?:getty(?:\s+images)?|ap\s+photo|depositphotos|shutterstock)"
    r"[^()]{0,30}\)?|[.!?]\s+\((?:reuters|afp|epa|ap)\b[^()]{0,30}\)?)\W*$"
)
_PHOTO_CREDIT_TAIL = re.compile(
    r"(?:[(/]\s*(?:фото|photo|колаж|коллаж|скриншот|скріншот|інфографіка|инфографика|ілюстрація"
    r"|иллюстрация)\s*:\s*[^()/]{2,60}\)?"
    r"|(?:фото|photo)\s+(?:з|із|из)\s+(?:вільних|відкритих|открытых|свободных)\s+(?:джерел|источников)"
    r"|/\s*(?:фото|photo)\s*:?\s+[^/,]{2,40}"  # "... / фото УНІАН"
    r"|[.!?]\s+(?:фото|photo|скриншот|скріншот)\s*:?\s+[^.!?]{2,30}"  # "... . Скриншот УАФ"
    r")\W*$"
)
_CREDIT_READ = re.compile(
    r"\d+\s*(?:хв|хвилин\w*|мин\w*|min\w*)\.?\s*(?:читати|читання|чтения|читать|read)"
)
_DATEISH_L = re.compile(
    r"^[\W\d]*(?:(?:понеділок|вівторок|середа|четвер|п[’']ятниця|субота|неділя|понедельник|вторник"
    r"|среда|четверг|пятница|суббота|воскресенье|monday|tuesday|wednesday|thursday|friday|saturday"
    r"|sunday|сьогодні|сегодня|вчора|вчера|today|yesterday|updated|оновлено|обновлено|\w{3,9}\s+\d{4}"
    r"|січ\w*|лют\w*|берез\w*|квіт\w*|трав\w*|черв\w*|лип\w*|серп\w*|верес\w*|жовт\w*|листоп\w*"
    r"|груд\w*|январ\w*|феврал\w*|март\w*|апрел\w*|ма[йя]\w*|июн\w*|июл\w*|август\w*|сентябр\w*"
    r"|октябр\w*|ноябр\w*|декабр\w*|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*"
    r"|oct\w*|nov\w*|dec\w*|в|о|at|min|хв|мин|год|ч)[\W\d]*)*$"
)
# "газ, плита" / "коммуналка, тарифы, платежки": keyword lines under an article.
_TAGLINE = re.compile(r"^[^\W\d_A-ZА-ЯІЇЄҐЁ][^,.!?]{0,30}(?:,\s*[^,.!?]{1,30}){1,8}$")
# Boilerplate that usually closes an article (so the story tends to end just before it).
_END_OF_ARTICLE_L = re.compile(
    r"коментар|комментар|comment|поділит|поделит|share|джерело|источник|source|теги|tags"
    r"|telegram|телеграм|viber|facebook|підпис|подпис|subscribe|відповідь|reply"
)
_PERSON = re.compile(r"^[A-ZА-ЯЁІЇЄҐ][a-zа-яёіїєґ'’-]+\s[A-ZА-ЯЁІЇЄҐ][a-zа-яёіїєґ'’-]+$")  # byline
_MINOR = re.compile(r"^[\"«“]?[A-ZА-ЯЁІЇЄҐ][^.!?…:;,]*$")
_GUILLEMETS = re.compile(r"«[^«»]*»")
_URL = re.compile(r"\w+://\S+")
_SEPARATOR = re.compile(r"[»›>/|•·]")
_BREADCRUMB = re.compile(
    r"\S\s?[»›>/|]\s?\S[^»›>/|]*[»›>/|]|^\S+(?:\s\S+)?\s?»"
    r"|^[^.!?]{1,40}\s[•·]\s[^.!?]{1,40}$",  # "Київ • УНН" datelines
    _I,
)

# Paragraph openings that only make sense after a previous paragraph of the same story.
# Paragraph openings that only make sense after a previous paragraph of the same story:
# pronouns and connectives (strong), and attribution/recap formulas (weak: scraped teasers are
# sometimes cut from a story's second paragraph and open with "Про це повідомляє ...").
_ANAPH_STRONG_L = re.compile(
    r"^(?:[-–—•▪►●◾✅✔➡*]"  # list items, footnotes, dialogue/quote continuations
    r"|(?:він|вона|вони|воно|його|її|їх|йому|їй|цей|ця|це|ці|там|тоді|тут|також|крім\s+того"
    r"|окрім\s+того|водночас|натомість|при\s+цьому|зокрема|тому|однак|проте|але|втім|утім"
    r"|згодом|після\s+цього|до\s+слова|а|і|й|та|такий|така|таке|такі|таким|такого|таких"
    r"|он|она|они|оно|его|ее|её|их|ему|ей|этот|эта|это|эти|также|кроме\s+того|при\s+этом"
    r"|в\s+то\s+же|поэтому|однако|но|впрочем|тем\s+временем|в\s+свою\s+очередь|между\s+тем|и"
    r"|такой|такая|такое|такие|таким|такого|таких|such"
    r"|he|she|they|it|his|her|their|this|these|those|also|however|meanwhile|but|and)\b)"
)
_ANAPH_WEAK_L = re.compile(
    r"^(?:зазначимо|нагадаємо|нагадуємо|раніше|як\s+повідомл\w*|як\s+відомо|як\s+зазнач\w*"
    r"|за\s+(?:його|її|їхніми|словами|даними)|у\s+(?:свою\s+чергу|зв[’']язку)|про\s+це"
    r"|поки\s+що|наразі|нині|напомним|напомню|ранее|как\s+сообщ\w*|как\s+известно|как\s+отмет\w*"
    r"|по\s+(?:его|ее|её|их|словам|данным)|об\s+этом|the\s+(?:move|statement|decision|report"
    r"|ministry|agency|president|minister|official|company)|earlier|according\s+to\s+(?:him"
    r"|her|them|the)|in\s+(?:addition|turn)|previously)\b"
)
# A quotation closed by an attribution without a named speaker (", – наголосили у фонді.").
_QUOTE_ATTR = re.compile(
    r"[\"»”]\s*,?\s*[-–—]\s*(?:додав|додала|додали|сказав|сказала|сказали|наголосив|наголосила"
    r"|наголосили|зазначив|зазначила|зазначили|пояснив|пояснили|підкреслив|добавил|добавила"
    r"|добавили|сказал|сказала|сказали|подчеркнул|подчеркнули|отметил|отметили|пояснил"
    r"|said|added|noted)\s+(?:він|вона|вони|он|она|они|у\s|в\s)?[^A-ZА-ЯІЇЄҐЁ]{0,30}$",
    _I,
)
# A capitalised word that does not open a sentence. Written to start with `\s` (a fast-scanned
# class) and look behind from the capital, instead of a leading look-behind tried at every position.
_CAPWORD = re.compile(r"\s[A-ZА-ЯІЇЄҐЁ](?<=[\w,;:)»\"]\s[A-ZА-ЯІЇЄҐЁ])[\w'’-]")
_MIDWORD_LAST = frozenset("abcdefghijklmnopqrstuvwxyzабвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ")
_SENT_END = re.compile(r"[.!?…] ")
_LOWER_START = re.compile(r"^[\"«„“(]?[a-zа-яіїєґё]")  # case-sensitive: sentence continues
_SENT_SPLIT = re.compile(r"[.!?…][\"»”)]?\s+(?=[\"«„“(]?[A-ZА-ЯІЇЄҐЁ0-9])")
# Explicit letter ranges: much faster in `re` than Unicode classes like [^\W\d_].
_LETTERS = "a-zа-яёіїєґўà-öø-ÿ"
# Stems are the first five letters of words of four letters or more; the regexes return them
# directly so no per-word Python work is needed.
# (The first letter is spelled out so that `re` can skip to candidate positions in C.)
_STEM4 = re.compile(f"([{_LETTERS}][{_LETTERS}]{{3,4}})[{_LETTERS}]*")  # lower-cased text
_CAPSTEM4 = re.compile(f"([A-ZА-ЯЁІЇЄҐ][{_LETTERS}A-ZА-ЯЁІЇЄҐ]{{3,4}})[{_LETTERS}A-ZА-ЯЁІЇЄҐ]*")


# Function words (uk/ru/en, >= 4 letters, as 5-letter stems): sharing them says nothing.
def _stemset(words: str) -> frozenset[str]:
    return frozenset(w[:5] for w in words.split())


_STOP_WORDS = """
    також після через проти серед цього цієї який яка яке які якого його її їхні були було буде
    будут будуть може можуть понад більше менше року років роки році тому коли щодо можна зараз
    вже лише тільки дуже своїй свого своєї своїх своє якщо тому однак проте було того цьому цих
    этом этого этой году года также после через против среди котор было будет были может могут
    более менее своей свой своих только уже очень сейчас можно когда если чтобы однако того этих
    того всех всего который которая которые
    that this with from have been were will would could should about after over into their there
    which while where when what also more than said says told other some such only they them
    these those just most being much many very since then because
    """
_STOP = _stemset(_STOP_WORDS)
# Generic news-domain stems (countries, offices, reporting verbs, calendar): shared by unrelated
# stories about the same war/economy, so they count for a quarter of a specific word.
_GENERIC_WORDS = """
    украї украи ukrai росії росій росси росія russi сша амери ameri путін путин putin зелен
    трамп trump байде biden нато nato європ европ europ прези presi мініс минис minis уряд прави
    govern держа госуд state війсь военн milit війна війни война войны войн армія армии
    заяви заявл повід сообщ повідо розпо расск зазна отмет сказа наголо подче додав добав
    інфор инфор пише пишет йдеть речь опубл report annou служб прес пресс press
    сього сегод today вчора вчера рік року годы year понед вівто серед четве пятни субот неді
    січня лютог берез квітн травн червн липня серпн верес жовтн листо грудн январ феврал март
    апрел июня июля авгус сентя октяб ноябр декаб month week тижня недел ранее раніш earli
    тижде тижні торік годин часов хвили минут днів дней місяц месяц
    київ києві киев kyiv москв mosco країн стран count світу мира world глава голов head
    новин новос news канал телег teleg facebo фото photo відео видео video ситуа situa
    питан вопро issue"""
_GENERIC = _stemset(_GENERIC_WORDS)


def _norm(text: str) -> str:
    """Collapse whitespace runs to one space and trim (skipped when there is nothing to do:
    printable text has no whitespace but the ASCII space)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _any_of(words: tuple[str, ...]) -> Callable[[str], bool]:
    """A cheap necessary condition for a pattern: "one of its literal words occurs in the text",
    tested by one Aho-Corasick pass in C (a loop of ``in`` tests costs 1-2 µs a paragraph)."""
    auto = ahocorasick.Automaton()
    for w in words:
        auto.add_word(w, w)
    auto.make_automaton()
    it = auto.iter

    def test(text: str) -> bool:
        return next(it(text), None) is not None

    return test


def _has_any(text: str, words: tuple[str, ...]) -> bool:
    """One of ``words`` occurs in ``text`` (plain version, for tests of ``_any_of``)."""
    return any(w in text for w in words)


_HAS_CREDIT_ANY = _any_of(_CREDIT_ANY_WORDS)
_HAS_SOCIAL = _any_of(_SOCIAL_WORDS)
_HAS_SUBSCRIBE = _any_of(_SUBSCRIBE_WORDS)
_HAS_APPEAL = _any_of(_APPEAL_WORDS)
_HAS_NOTICE = _any_of(_NOTICE_WORDS)
_HAS_CREDIT_TAIL = _any_of(
    ("/", "(", "джерел", "источник", "фото", "photo", "скриншот", "скріншот")
)


class _Feat:
    """Context-free facts about one paragraph text: computed once, on first need, and memoised
    across documents (teasers and page furniture repeat from page to page)."""

    __slots__ = (
        "anaphoric",
        "boiler",
        "fold",
        "long",
        "long_furn",
        "low",
        "lower",
        "marker_end",
        "marker_only",
        "mfeats",
        "mscore",
        "no_entity",
        "shape",
        "stems",
        "text",
        "truncated",
        "weak_anaphoric",
        "weight",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        # Repetition key and the text the lower-case patterns read: case-insensitive.
        self.low = low = text.lower()
        self.fold = text.translate(_FOLD).lower() if _NEEDS_FOLD.search(text) else low
        self.marker_only: bool | None = None
        self.marker_end = -2  # end of a "Read also: " prefix; -1 none; -2 not computed
        self.boiler: bool | None = None
        self.long_furn: bool | None = None
        self.stems: dict[str, float] | None = None
        self.mfeats: list[tuple[str, float]] | None = None  # features.py's context-free part
        self.mscore: tuple[object, tuple[float, ...]] | None = None  # (scorer, its mfeats score)
        self.weight = 0.0
        self.long = self.anaphoric = self.lower = self.weak_anaphoric = False
        self.no_entity = self.truncated = False
        self.shape = 0.0

    def is_marker(self) -> bool:
        """The whole line is a "Read also"-style marker."""
        if self.marker_only is None:
            self.marker_only = _MARKER_ONLY_L.match(self.fold) is not None
        return self.marker_only

    def marker_prefix_end(self) -> int:
        """End of a leading "Read also:"-style marker followed by a headline, or -1."""
        if self.marker_end == -2:
            m = _MARKER_PREFIX_L.match(self.fold)
            self.marker_end = m.end() if m else -1
        return self.marker_end

    def is_boiler(self) -> bool:
        if self.boiler is None:
            self.boiler = _boiler_text(self.text, self.low, self.fold)
        return self.boiler

    def is_long_furniture(self) -> bool:
        """Furniture past the short-line checks (``_long_furniture``), memoised."""
        if self.long_furn is None:
            self.long_furn = _long_furniture(self.text, self.low)
        return self.long_furn

    def analysed(self) -> _Feat:
        if self.stems is None:
            _analyse(self)
        return self


_MEMO: dict[str, _Feat] = {}
_MEMO_MAX = 4096  # paragraphs (about 2.5 KB each with their stems: ~10 MB at most)


def _feat(text: str) -> _Feat:
    f = _MEMO.get(text)
    if f is None:
        if len(_MEMO) >= _MEMO_MAX:
            # Forget the older half (dicts keep insertion order); what is still repeated - a
            # site's current teasers and furniture - comes back at its next occurrence.
            for old in list(islice(_MEMO, _MEMO_MAX // 2)):
                _MEMO.pop(old, None)
        f = _MEMO[text] = _Feat(text)
    return f


def clear_memo() -> None:
    """Forget the memoised paragraph facts (benchmarks measure the cold path with this)."""
    _MEMO.clear()


# Block roles.
_TITLE, _LEAD, _TEASER, _BOILER_R, _FREE = "T", "L", "S", "B", "?"


@dataclass(slots=True)
class _Unit:
    text: str  # paragraph as it is reported
    role: str
    f: _Feat  # facts about the paragraph as it appears in the input
    link: str | None = None
    minor: bool = False  # short heading-like line: subheading inside the story, or furniture
    hard: bool = False  # teaser given away by repetition or a link list: the teaser block has begun
    fixed: str = ""  # why a rule fixed the role before the cut search ("" when it did not)
    coh: float = 0.0  # shared stem weight with the title and the free paragraphs before it
    coh_title: float = 0.0  # shared stem weight with the title alone
    colon: bool = False  # the previous free paragraph ends with ':' or ';'
    cut_cost: float = 0.0  # the hand cut search's lead log-odds of this paragraph (with bonus)


def _credit(low: str) -> bool:
    return (
        _CREDIT_HEAD.match(low) is not None
        or (low[:1].isdigit() and _CREDIT_READ.match(low) is not None)
        or (_HAS_CREDIT_ANY(low) and _CREDIT_ANY.search(low) is not None)
    )


def _social(low: str) -> bool:
    return _HAS_SOCIAL(low) and _SOCIAL.search(low) is not None


def _notice(low: str) -> bool:
    return _HAS_NOTICE(low) and _NOTICE.search(low) is not None


def _subscribe(low: str) -> bool:
    return _HAS_SUBSCRIBE(low) and _SUBSCRIBE.search(low) is not None


def _appeal(low: str) -> bool:
    return _HAS_APPEAL(low) and _APPEAL.search(low) is not None


def _tag_run(text: str, n_words: int) -> bool:
    """A run of tag words: 7+ words, no punctuation at all, and a word repeated or two words in
    three capitalised ("Київ протест акція Київ ..."), unlike a headline or a subheading (half
    capitalised names a few people and places; English ones are in Title Case)."""
    if n_words < 7 or not _NO_SENT_PUNCT.match(text):
        return False
    words = text.split()
    long_words = [w.lower() for w in words if len(w) >= 4]
    if len(set(long_words)) < len(long_words):
        return True
    if text.isascii():  # English headlines and subheadings are in Title Case
        return False
    caps = sum(1 for w in words[1:] if w[:1].isupper())
    return caps * 3 >= 2 * (len(words) - 1)


def _boiler_text(text: str, low: str, fold: str) -> bool:
    """Page furniture: ads, share/subscribe, credits and captions, dates, breadcrumbs, tags."""
    if _BOILER_L.match(fold) or _DATEISH_L.match(fold):
        return True
    n_words = text.count(" ") + 1
    if _credit_tail(low, short=len(text) <= _SHORT_BOILER):
        return True
    if n_words > 30 or (
        _ATTRIBUTION.match(fold) and _REPORTED.search(fold) and not _HAS_SUBSCRIBE(low)
    ):
        return False
    # `low`: the patterns below are lower-case (case-folding regexes are slow)
    if n_words <= 16 and _credit(low):
        return True
    if _social(low) and (n_words <= 8 or _SUBSCRIBE.search(low) or _SOCIAL2.search(low)):
        return True
    if n_words <= 8 and _subscribe(low):
        return True
    if _appeal(low):
        return True
    if _notice(low):
        return True
    if n_words <= 14 and text[-1:] not in ".!?…" and _crumb(text):
        return True
    if _TAGLINE.match(text) or _HASHTAGS.match(text) or _media(text):
        return True
    if (n_words <= 8 and _BYLINE.match(low)) or (n_words <= 16 and _AUTHOR_LABEL.match(low)):
        return True
    if n_words <= 4 and _SITE_NAME.match(low):
        return True
    if _tag_run(text, n_words):
        return True
    # Tag-cloud / caption shaped: one or two words, no sentence punctuation.
    return n_words <= 2 and text[-1:] not in ".!?…:;," and not text[:1].isdigit()


def _is_boilerplate(f: _Feat, block: Block | None) -> bool:
    if block is not None and block.tag == "figcaption":
        return True
    return f.is_boiler()


def _unquote(text: str) -> str:
    """``text`` with its guillemet-quoted names («Динамо», «Укрзалізниця») as one placeholder:
    the » that closes a quote is not a path separator."""
    return _GUILLEMETS.sub("Q", text) if "«" in text else text


def _crumb(text: str) -> bool:
    """A breadcrumb or dateline path ("Головна » Новини » Світ", "Київ • УНН"); the slashes of a
    URL in a sentence are not one."""
    text = _unquote(text)
    if "://" in text:
        text = _URL.sub("U", text)
    return _SEPARATOR.search(text) is not None and _BREADCRUMB.search(text) is not None


def _credit_tail(low: str, *, short: bool) -> bool:
    """A caption ending with its credit (``_CREDIT_TAIL``; ``short``: also a photo credit)."""
    if not _HAS_CREDIT_TAIL(low):
        return False
    return _CREDIT_TAIL.search(low) is not None or (
        short and _PHOTO_CREDIT_TAIL.search(low) is not None
    )


def _media(text: str) -> bool:
    """A line that is nothing but image markup left in the text ("![alt](url)",
    "<image>...</image>"): a picture and its caption, never story text. A story paragraph with
    an image inlined before it is not one."""
    return text.startswith(("![", "<image>")) and _MEDIA_LINE.match(text) is not None


def _long_furniture(text: str, low: str) -> bool:
    """Furniture longer than the short-line checks look at: image markup with its long alt text
    and URL; cookie and comment-form notices, which run to a few dozen words; captions that end
    with their credit."""
    return _media(text) or (
        len(text) <= _NOTICE_MAX_CHARS and (_notice(low) or _credit_tail(low, short=False))
    )


def _matches_furniture(f: _Feat, block: Block | None) -> bool:
    """True when a specific furniture rule (not just "short line") claims the text."""
    if block is not None and block.tag == "figcaption":
        return True
    text, low = f.text, f.low
    return bool(
        _BOILER_L.match(f.fold)
        or _DATEISH_L.match(f.fold)
        or _credit(low)
        or _social(low)
        or _subscribe(low)
        or _appeal(low)
        or _notice(low)
        or _SEPARATOR.search(_unquote(text))
        or _TAGLINE.match(text)
    )


def _headline_shaped(text: str) -> bool:
    return 2 <= len(text.split()) <= 30 and len(text) <= 250 and text[-1:] not in ".…;:,"


def _analyse(f: _Feat) -> None:
    """Content stems (named entities weigh double, generic news words a quarter) and shape."""
    text = f.text
    caps = {w.lower() for w in _CAPSTEM4.findall(text)}
    stems = {
        s: (0.25 if s in _GENERIC else 2.0 if s in caps else 1.0)
        for s in _STEM4.findall(f.low)
        if s not in _STOP
    }
    f.weight = sum(stems.values())
    n = len(text)
    f.long = n > 450 or (n > 120 and len(_SENT_SPLIT.findall(text)) >= 2)
    # A leading dash also covers quote tails ("- додав він").
    f.anaphoric = _ANAPH_STRONG_L.match(f.fold) is not None
    f.weak_anaphoric = bool(_ANAPH_WEAK_L.match(f.fold) or _QUOTE_ATTR.search(text[-90:]))
    f.no_entity = _CAPWORD.search(text) is None
    f.lower = _LOWER_START.match(text) is not None
    # Body text cut off mid-word: the page's copy of the story stops here.
    f.truncated = text[-1:] in _MIDWORD_LAST and (
        text.count(" ") >= 14 or _SENT_END.search(text) is not None
    )
    f.shape = _shape(f)
    f.stems = stems  # last: marks the analysis done


# Scoring weights: rough log-odds "lead vs teaser" per paragraph, set by reasoning and checked on
# the dev set (bench/eval_split.py). Cohesion is the weighted count of the paragraph's content stems
# already seen in the title/lead before it (named entities count double), saturating.
_COH_BIAS = -2.5  # no shared stems: most likely another story
_COH_SLOPE = 0.8
_COH_CAP = 4.5
_W_ANAPH = 2.2  # opening that needs a previous paragraph ("Він", "Также", "He", "- ")
_W_ANAPH_WEAK = 1.0  # recap/attribution opening ("Про це", "Об этом", "According to the")
_W_NO_ENTITY = 1.2  # names nobody and nothing: cannot be a self-contained lede
_W_LOWER = 3.0  # starts in lower case: a sentence or list continued from the previous paragraph
_W_LONG = 3.0  # multi-sentence body paragraph: teasers are 1-2 sentence ledes
_W_COLON = 2.5  # previous paragraph ends with ':' (a list or quote follows)
_POS_PRIOR = (3.0, 1.5, 0.5)  # a document starts with its story, which runs a few paragraphs...
_W_RATIO = 6.0  # share of the paragraph's own stems that the lead already used (capped at 0.4)
_LONE_OPENER = 2.5  # ...but one short opener followed only by unrelated ledes is a digest
_LONE_TEASER = 1.0
_W_TRUNC = 1.5  # cut off mid-word: body text, not a lede...
_CUT_AFTER_TRUNC = 1.5  # ...and usually the last paragraph of the story on the page
_CUT_AT_END_LINE = 1.5  # comments/share/source lines usually close the article


def _softplus(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))


def _shape(u: _Feat) -> float:
    """The part of a paragraph's lead log-odds that does not depend on the lead context."""
    v = _COH_BIAS
    if u.anaphoric:
        v += _W_ANAPH
    if u.lower:
        v += _W_LOWER
    if u.weak_anaphoric:
        v += _W_ANAPH_WEAK
    if u.no_entity:
        v += _W_NO_ENTITY
    if u.long:
        v += _W_LONG
    if u.truncated:
        v += _W_TRUNC
    return v


def _value(u: _Feat, shared: float) -> float:
    """Lead log-odds of `u` given `shared` weight of its stems already used by the lead."""
    v = u.shape + _COH_SLOPE * (shared if shared < _COH_CAP else _COH_CAP)
    if u.weight:
        r = shared / u.weight
        v += _W_RATIO * (r if r < 0.4 else 0.4)
    return v


def _looks_like_digest(free: list[_Feat], total: list[float]) -> bool:
    """No title and the opening paragraphs bind to nothing before them: a list of ledes."""
    head = free[0]
    if head.long or head.lower or head.anaphoric or head.weak_anaphoric or len(free) < 4:
        return False
    for i in range(1, min(len(free), 5)):
        u = free[i]
        if total[i] >= 1.0 or u.long or u.anaphoric or u.weak_anaphoric or u.lower:
            return False
    return True


def _assign(
    units: list[_Unit], title_stems: dict[str, float] | None, *, stop_at_hard: bool = True
) -> None:
    """Cut-point search over the free units: lead = free units before k, teasers = after.

    score(k) = sum of lead values of units < k (cohesion with the lead before them) minus the sum
    of lead values of units >= k (cohesion with the whole lead [0, k)). Updated incrementally via
    the first occurrence of each stem, so the search is linear in the number of stems.

    ``stop_at_hard`` (the hand rules): free units after a repeated teaser or a link list are
    teasers outright. A trained scorer passes False: they join the search, so that their
    cohesion facts are computed, and the scorer weighs the repeat as evidence.

    The lead value (`_value`) and its softplus cost are inlined below: this loop runs for every
    item, and the arithmetic is kept in exactly the same order as in those functions.
    """
    free_units: list[_Unit] = []
    end_after: list[bool] = []  # an end-of-article line (comments, share, source) follows
    hard_seen = False
    tail_hard = 0  # teasers already known (given away by repetition, markers or links)
    for u in units:
        hard_seen = hard_seen or u.hard
        role = u.role
        if role == _FREE:
            if hard_seen and stop_at_hard:
                # After a repeated teaser or a link list the page is in its teaser block.
                u.role, u.fixed = _TEASER, "after_hard"
                tail_hard += 1
            else:
                free_units.append(u)
                end_after.append(False)
        elif role == _TEASER:
            tail_hard += 1
        elif role == _BOILER_R and free_units and _END_OF_ARTICLE_L.search(u.f.fold):
            end_after[-1] = True
    n = len(free_units)
    if not n:
        return
    free = [u.f for u in free_units]
    first: dict[str, int] = dict.fromkeys(title_stems or (), -1)
    base = [0.0] * n  # shared weight with the title
    total = [0.0] * n  # shared weight with title + all earlier units
    contrib: list[dict[int, float]] = [{} for _ in range(n)]
    colon = [False] * n
    prev: _Feat | None = None
    for i, fu in enumerate(free):
        if fu.stems is None:
            _analyse(fu)
        if prev is not None:
            colon[i] = prev.text.endswith((":", ";"))
        prev = fu
        get = first.get
        for s, w in (fu.stems or {}).items():
            f = get(s)
            if f is None:
                first[s] = i
            elif f < 0:
                base[i] += w
                total[i] += w
            else:
                c = contrib[f]
                c[i] = c.get(i, 0.0) + w
                total[i] += w
    digest = not title_stems and _looks_like_digest(free, total)
    bonus = [(_W_COLON if c else 0.0) for c in colon]
    if not digest:
        for i, p in enumerate(_POS_PRIOR[:n]):
            bonus[i] += p
    # Costs are -log P(label): softplus of the log-odds on the wrong side.
    exp, log1p = math.exp, math.log1p
    lead_c = [0.0] * n
    tease_c = [0.0] * n
    for i, u in enumerate(free_units):
        u.coh, u.coh_title, u.colon = total[i], base[i], colon[i]
    for i, fu in enumerate(free):
        shape, weight, b = fu.shape, fu.weight, bonus[i]
        for shared, to_lead in ((total[i], True), (base[i], False)):
            v = shape + _COH_SLOPE * (shared if shared < _COH_CAP else _COH_CAP)
            if weight:
                r = shared / weight
                v += _W_RATIO * (r if r < 0.4 else 0.4)
            if to_lead:
                free_units[i].cut_cost = v + b
                x = -(v + b)
                lead_c[i] = x + log1p(exp(-x)) if x > 0 else log1p(exp(x))
            else:
                x = v + b
                tease_c[i] = x + log1p(exp(-x)) if x > 0 else log1p(exp(x))
    shared_now = base[:]
    t_sum = sum(tease_c)
    l_sum = 0.0
    # "No lead at all" (a digest) is only a candidate when the opening paragraph binds to nothing
    # after it: without a lead there is no context, so k=0 would otherwise look cheap.
    best_k, best = 0, (t_sum if digest else math.inf)
    # Teasers come in blocks: a cut leaving a single weak paragraph after it (and no teaser that
    # gave itself away) is more likely the story's last paragraph.
    lone_opener = not title_stems and n > 1 and not free[0].long
    for k in range(n):
        # Move unit k from the teaser side to the lead side; its stems join the lead context.
        t_sum -= tease_c[k]
        l_sum += lead_c[k]
        for i, w in contrib[k].items():
            shared = shared_now[i] + w
            shared_now[i] = shared
            fu = free[i]
            v = fu.shape + _COH_SLOPE * (shared if shared < _COH_CAP else _COH_CAP)
            if fu.weight:
                r = shared / fu.weight
                v += _W_RATIO * (r if r < 0.4 else 0.4)
            x = v + bonus[i]
            nc = x + log1p(exp(-x)) if x > 0 else log1p(exp(x))
            t_sum += nc - tease_c[i]
            tease_c[i] = nc
        cost = l_sum + t_sum
        if tail_hard == 0 and n - (k + 1) == 1:
            cost += _LONE_TEASER
        if k == 0 and lone_opener:
            cost += _LONE_OPENER
        if free[k].truncated:
            cost -= _CUT_AFTER_TRUNC
        if end_after[k]:
            cost -= _CUT_AT_END_LINE
        if cost < best:
            best, best_k = cost, k + 1
    for i, u in enumerate(free_units):
        u.role = _LEAD if i < best_k else _TEASER


def _finish(units: list[_Unit], title: str | None) -> SplitResult:
    # Subheadings ("Key facts", "Графіки відключень") sit between paragraphs of the story.
    prev_lead = False
    for i, u in enumerate(units):
        if u.role == _LEAD:
            prev_lead = True
        elif u.role in (_TEASER, _TITLE):
            prev_lead = False
        elif u.minor and prev_lead:
            nxt = next((v for v in units[i + 1 :] if v.role in (_LEAD, _TEASER)), None)
            if nxt is not None and nxt.role == _LEAD:
                u.role = _LEAD
            elif units[i - 1].role == _LEAD and _cut_fragment(u.text):
                # The story's last paragraph cut off after a word or two ("На прошлых", "Пр",
                # "«Це надзвичайно"): still the story (LABELING.md), not a tag-like line.
                u.role = _LEAD
    lead: list[str] = []
    teasers: list[Teaser] = []
    boiler: list[str] = []
    for pos, u in enumerate(units):
        if u.role == _LEAD:
            lead.append(u.text)
        elif u.role == _TEASER:
            teasers.append(Teaser(u.text, pos, u.link))
        elif u.role == _BOILER_R:
            boiler.append(u.text)
    return SplitResult(title, lead, teasers, boiler)


def _cut_fragment(text: str) -> bool:
    """A line of a word or two that opens a sentence rather than names something: a quote left
    open, or a short word of a sentence's opening ("На прошлых", "У до", "Пр"); a longer first
    word ("Похожие статьи", "High views") is a label. (``text`` is a ``minor`` line: at most
    three words, capitalised, no punctuation.)"""
    if text[:1] in '"«“' and not any(q in text[1:] for q in '"»”'):
        return True
    first = text.split()[0]
    return len(first) <= 3 and (len(first) == 1 or first[1:].islower())


# Markers and page furniture live in short lines; longer ones skip those checks.
_SHORT = 400
_SHORT_BOILER = 160


def _split_blocks(texts: Sequence[str], blocks: Sequence[Block] | None) -> SplitResult:
    """Today's hand rules end to end: fixed roles, then the one-cut search."""
    units, title, title_stems = prepare(texts, blocks)
    _assign(units, title_stems)
    return _finish(units, title)


def prepare(
    texts: Sequence[str], blocks: Sequence[Block] | None
) -> tuple[list[_Unit], str | None, dict[str, float] | None]:
    """Units with the roles the rules fix (title, markers, furniture, link lists, repeats);
    the rest stay free for the cut search (or a trained scorer)."""
    units: list[_Unit] = []
    title: str | None = None
    force_next_teaser = False
    any_free = False
    feats = [_feat(t) for t in texts]
    keys = [f.low for f in feats]  # repetition key: case-insensitive
    seen: dict[str, int] = Counter(keys)
    seen.pop("", None)
    # A paragraph repeated back to back ("A A") is the page doubling a line of the story: a
    # teaser block's repeats come after the other teasers of the block, never right after
    # themselves. Such copies are left to the cut search like any paragraph.
    back_to_back: set[str] = set()
    if len(seen) < sum(seen.values()):  # some paragraph repeats
        first: dict[str, int] = {}
        for i, k in enumerate(keys):
            first.setdefault(k, i)
        # Every copy follows the one before iff the last copy sits count - 1 after the first.
        last = {k: i for i, k in enumerate(keys)}
        back_to_back = {k for k, c in seen.items() if c > 1 and last[k] - first[k] + 1 == c}
    title_key = ""

    for pos, text in enumerate(texts):
        f = feats[pos]
        blk = blocks[pos] if blocks is not None else None
        u = _Unit(text, _FREE, f, blk.href if blk is not None else None)
        units.append(u)
        # Title: an HTML heading before the story starts, or a headline-shaped first text line.
        if title is None and not any_free:
            is_heading = blk is not None and blk.tag in ("h1", "h2", "h3")
            echoed = seen.get(keys[pos], 0) > 1  # a headline repeated at the top of the page
            if (
                (is_heading or (blk is None and pos < 3) or echoed)
                and _headline_shaped(text)
                and not f.is_marker()
                and not _is_boilerplate(f, blk)
            ):
                title, title_key = text, keys[pos]
                u.role, u.fixed = _TITLE, "title"
                continue
        if title is not None and keys[pos] == title_key:
            u.role, u.fixed = _LEAD, "echo"  # headline echoed in the body: still the story
            continue
        short = len(text) <= _SHORT
        if short and f.is_marker():
            u.role, u.fixed = _BOILER_R, "marker"
            force_next_teaser = True
            continue
        if blk is not None and blk.bold_prefix and _MARKER_ONLY.match(blk.bold_prefix):
            rest = text[len(blk.bold_prefix) :].strip() if text.startswith(blk.bold_prefix) else ""
            u.text = rest or text
            u.role, u.fixed = _TEASER, "bold"
            force_next_teaser = False
            continue
        m_end = f.marker_prefix_end() if short else -1
        if (
            m_end >= 0
            and not _SUBSCRIBE.search(text[: m_end + 12])
            and not _BOILER_L.match(f.fold)  # "Больше новостей на <site>": furniture below
        ):
            u.role, u.fixed = _TEASER, "prefix"
            force_next_teaser = False
            continue
        if (len(text) <= _SHORT_BOILER and _is_boilerplate(f, blk)) or (
            len(text) > _SHORT_BOILER and f.is_long_furniture()
        ):
            u.role, u.fixed = _BOILER_R, "boiler"
            # A one/two-word line that no specific rule claimed may be a subheading of the story.
            u.minor = (
                text.count(" ") < 3
                and _MINOR.match(text) is not None
                and _PERSON.match(text) is None
                and not _matches_furniture(f, blk)
            )
            continue
        if force_next_teaser:
            force_next_teaser = False
            if not (_ANAPH_STRONG_L.match(f.fold) or _LOWER_START.match(text)):
                u.role, u.fixed = _TEASER, "after_marker"
                u.hard = True  # "Related:" + list: the teaser block has begun
                continue
        if blk is not None and blk.link_chars and blk.link_density >= 0.6:
            u.role, u.fixed = _TEASER, "links"
            u.hard = True
            if blk.link_text and len(blk.link_text) < len(text) and f.marker_prefix_end() >= 0:
                u.text = blk.link_text
            continue
        if seen.get(keys[pos], 0) > 1 and keys[pos] not in back_to_back:
            u.role, u.fixed = _TEASER, "repeat"
            u.hard = True
            continue
        any_free = True
    title_stems = _feat(title).analysed().stems if title is not None else None
    return units, title, title_stems
