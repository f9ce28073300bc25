"""Whole HTML pages (a document as a browser fetches it) -> title, lead, teasers.

A fetched article page is mostly furniture: navigation, sidebars, comments, footers, widgets of
other stories. The article region is found by content scoring on the DOM, in the manner of
Mozilla Readability (the long-standing, site-agnostic approach): paragraphs of prose vote for
their ancestors (commas and length count, link text does not), class/id words such as "article",
"content" or "comment", "sidebar" weigh in, and the best-scored container plus its like-scored
siblings is the article. Inside it, blocks that are mostly links, form controls or images, and
bylines, are cleaned away. When the strict pass finds too little prose (sites that name their
wrappers oddly), looser passes follow: furniture kept for scoring, then class words ignored,
then no cleaning.

What an extractor lacks and the stream needs is the teaser structure. Ledes of *other* stories
become teasers with their links, never lead and never silently dropped: a "Read also: ..." line
(or a "Read also" line and the links under it), a run of headline links closing the story, and
every headline link of a block named related / recommended / most-read / latest news by its
class, id or heading, anywhere on the page. Unnamed link lists are not teasers (tables of
contents and category lists look the same). Captions, credits, "Advertisement" and
subscribe-to-our-channel lines go to boilerplate; navigation, comments and footers are dropped.

Pure: no I/O; deterministic; every output string is visible text of the page (whitespace
collapsed, a "read also" marker cut off), the title possibly from <title>/og:title. The DOM walks
are iterative and linear in the page, so deep garbage markup cannot exhaust the recursion limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from streams.text.split import SplitResult, Teaser

__all__ = ["is_whole_page", "split_page"]

# A real document: a doctype, or an <html>/<head>/<body> tag, near the start. Fragment items
# (<article><p>..., <p>..., plain <div>s) never carry these.
_DOC_START = re.compile(
    r"^[\s\ufeff]*(?:<!--.*?-->\s*)*(?:<\?xml[^>]*>\s*)?<(?:!doctype\s+html|html|head)\b",
    re.I | re.S,
)
_BODY_TAG = re.compile(r"<body\b", re.I)
_HTML_TAG = re.compile(r"<html\b", re.I)


def is_whole_page(html: str) -> bool:
    """Whether `html` is a whole document (doctype/<html>/<head> first, or both <html> and <body>)
    rather than an item's HTML fragment. Looks only at the head of the string: cheap."""
    if not html:
        return False
    head = html[:4096]
    if _DOC_START.match(head):
        return True
    return bool(_HTML_TAG.search(head) and _BODY_TAG.search(html[:65536]))


# --------------------------------------------------------------------------------------------------
# Vocabulary. Class/id words are the generic ones of web templates (no site names).

_SKIP = frozenset(
    {
        "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed",
        "head", "button", "select", "input", "textarea", "option", "link", "meta",
        "video", "audio", "map", "dialog",
    }
)  # fmt: skip
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "main", "aside", "header", "footer", "nav", "ul", "ol",
        "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
        "blockquote", "pre", "table", "thead", "tbody", "tfoot", "tr", "td", "th", "caption",
        "form", "fieldset", "address", "hr", "body", "html", "details", "summary", "center",
        "menu", "picture",
    }
)  # fmt: skip
# Elements whose presence makes a <div> a container rather than a paragraph.
_DIVISIVE = frozenset(
    {"p", "div", "section", "article", "ul", "ol", "dl", "table", "pre", "blockquote", "figure",
     "h1", "h2", "h3", "h4", "h5", "h6", "header", "footer", "nav", "aside", "form", "main"}
)  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LABELS = frozenset({"h2", "h3", "h4", "h5", "h6", "strong", "b", "span", "div", "p", "header"})
_SCORED = frozenset({"p", "pre", "td", "h2", "h3", "h4", "h5", "h6"})
_PARA_LIKE = frozenset({"div", "section", "article", "main", "span", "font", "center", "td", "dd"})
# Links under these roles are never teasers (menus, search, the page footer).
_BLOCK_ROLES = frozenset({"menu", "menubar", "navigation", "search", "contentinfo", "banner"})
# ARIA roles of furniture: left out of the first scoring pass.
_NO_ROLE = frozenset(
    {"menu", "menubar", "complementary", "navigation", "alert", "alertdialog", "dialog", "banner",
     "contentinfo", "search"}
)  # fmt: skip

# Furniture that never holds the article (removed before scoring unless it also says content).
_UNLIKELY = re.compile(
    r"banner|breadcrumb|combx|comment|communit|disqus|footer|gdpr|cookie|consent|header|menu"
    r"|navbar|navigation|remark|repl(?:y|ies)|rss|shoutbox|sidebar|skyscraper|social|sponsor"
    r"|supplement|pagination|pager|popup|modal|subscribe|newsletter|signup|login|toolbar|share"
    r"|\bad\b|-ads?\b|\bads?-|advert|promo|agegate|related|recommend|outbrain"
    r"|taboola|also-read|read-?also|more-?(?:news|stories|articles)|most-?(?:read|popular)"
    r"|trending|popular|widget"
)
_MAYBE = re.compile(r"and|article|body|column|content|main|shadow|story|text|entry|post")
_NEGATIVE = re.compile(
    r"hidden|\bhid\b|banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain"
    r"|promo|related|recommend|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags?\b"
    r"|widget|subscribe|newsletter|(?<![a-z0-9_])(?:byline|author|dateline|caption|credit|nav|menu"
    r"|teaser|popular)(?![a-z])"
)
_POSITIVE = re.compile(
    r"article|body|content|entry|hentry|h-entry|main|page|post|text|blog|story|news-?(?:text|body)"
)
# Who and when: bylines, datelines, publication times.
_BYLINE = re.compile(
    r"(?<![a-z0-9])(?:byline|by-line|author|authors|dateline|posted-on|pubdate|published|timestamp"
    r"|entry-meta|post-meta|article-meta|date|time|datetime)(?![a-z0-9])"
)
_BYLINE_TAGS = frozenset({"div", "span", "p", "time", "address", "ul", "li", "section", "small"})
# Containers of ledes of other stories (their headline links are teasers).
_TEASER_ZONE = re.compile(
    r"related|recommend|read-?(?:also|more|next)|also-?read|see-?also|more-?(?:news|stories"
    r"|articles|from|on)|similar|popular|most-?read|trending|outbrain|taboola|teaser|you-?may"
    r"|other-?news|news-?feed|further-?reading|recent-?(?:posts|news|entries|stories)"
    r"|latest-?(?:news|posts|stories)|most-?viewed|partners?-?news|news-?partners?"
)
# Furniture whose links are never teasers even when a zone word matches.
_NOT_TEASER = re.compile(
    r"comment|footer|breadcrumb|\bnav|menu|tags?\b|share|social|author|cookie|consent|login"
    r"|account|search|pagination|pager"
)

# "Read also"-style markers (uk/ru/en and a few more): a whole line announces teasers, a prefix
# makes the rest of the line a teaser headline.
_MARKER = (
    r"(?:читайте|читай|дивіться|дивись|смотрите|читать|слухайте)\s+(?:також|также|тоже|ще|еще|ещё)"
    r"|(?:також|также)\s+(?:читайте|дивіться|смотрите)|ще\s+за\s+темою|по\s+темі|по\s+теме"
    r"|на\s+тему|за\s+темою|вас\s+може\s+зацікавити|вас\s+может\s+заинтересовать"
    r"|схожі\s+новини|похожие\s+новости|інші\s+новини|другие\s+новости|більше\s+новин"
    r"|больше\s+новостей|рекомендуємо|рекомендуем|популярне|популярное|останні\s+новини"
    r"|последние\s+новости|головне\s+за\s+день|главное\s+за\s+день|найпопулярніше"
    r"|latest\s+(?:news|stories|posts)|recent\s+(?:posts|news|stories|articles)"
    r"|most\s+(?:read|popular|viewed)|top\s+stories|новини\s+партнерів|новости\s+партнеров"
    r"|(?:news|stories)\s+from\s+(?:our\s+)?partners|partner\s+(?:news|content)"
    r"|read\s+(?:more|also|next)|see\s+also|also\s+read|related(?:\s+(?:news|stories|articles"
    r"|content|posts|coverage))?|more\s+(?:news|stories|on\s+this(?:\s+story)?)"
    r"|you\s+(?:may|might)\s+also\s+like|recommended(?:\s+for\s+you)?|further\s+reading"
    r"|lire\s+aussi|à\s+lire\s+aussi|lesen\s+sie\s+auch|mehr\s+zum\s+thema|leer\s+más|lee\s+también"
)
_MARKER_ONLY = re.compile(rf"^\W*(?:{_MARKER})\W*$", re.I)
_MARKER_PREFIX = re.compile(rf"^\W*(?:{_MARKER})\s*(?::|[-–—»>|]|\.{{3}}|…)\s*(?=\S)", re.I)
# Whole lines that are page furniture wherever they stand.
_FURNITURE = re.compile(
    r"^\W*(?:advertisement|advertising|ad|ads|sponsored(?:\s+content)?|реклама|image|images|photo"
    r"|photos|video|фото|відео|видео|share(?:\s+this(?:\s+\w+)?)?|print|e-?mail|save|tweet"
    r"|comments?|коментарі|комментарии|поділитися|поделиться|promoted\s+by\s+\w+"
    r"|continue\s+reading(?:\s+the\s+main\s+story)?|back\s+to\s+top|наверх|нагору"
    r"|loading|subscribe|skip\s+to\s+(?:main\s+)?content|related\s+\w+)\W*$",
    re.I,
)
# Credits and subscription appeals inside the story's region.
_CREDIT = re.compile(
    r"^\W*(?:фото|photo|photos|відео|видео|video|джерело|источник|source|ілюстрація|иллюстрация"
    r"|скриншот|скріншот|image|credit|getty\s+images|reuters|afp|ap)\s*[:：/|]",
    re.I,
)
_APPEAL = re.compile(
    r"(?:підписуйтес[ья]|підпишіться|подписывайтесь|подпишитесь|subscribe|follow\s+us"
    r"|приєднуйтес[ья]|присоединяйтесь|читайте\s+нас|слідкуйте|следите)",
    re.I,
)
_CHANNEL = re.compile(
    r"telegram|телеграм|viber|facebook|instagram|youtube|twitter|tiktok|whatsapp|канал|channel"
    r"|newsletter|розсилк|рассылк",
    re.I,
)
_MORE_LINK = re.compile(
    r"^\W*(?:view|see|show|load|read)\s+(?:more|all)\b|^\W*(?:all|more)\s+(?:news|stories|posts)\b"
    r"|^\W*(?:більше|больше|усі|все|всі|показати|показать)\s+"
    r"(?:новин|новост|матеріал|материал|статт|стат)"
    r"|\s[»›→]\s*$",  # "Stories »" (a closing «quote» has no space before it)
    re.I,
)
_TAGLIKE = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?>")
_COMMAS = re.compile(r"[,，、،]")
_WORDS = re.compile(r"\w+")
_PERMALINK = re.compile(r"\s*[¶§#🔗]+\s*$")
_TITLE_SEP = re.compile(r"\s+[|–—·•:»/-]\s+|\s+-\s+")


@dataclass(eq=False, slots=True)
class _El:
    """A lightweight element: the parts of the DOM the scorer needs."""

    tag: str
    attrs: str  # class, id and itemprop, lower-cased
    parent: _El | None
    order: int = 0
    href: str | None = None
    kids: list[_El | str] = field(default_factory=list)
    text_len: int = 0  # characters of visible text (whitespace runs count as one)
    link_len: float = 0.0  # of which inside <a> (in-page "#" links count 0.3)
    commas: int = 0
    n_p: int = 0
    n_img: int = 0
    n_li: int = 0
    n_heading_chars: int = 0
    n_frag: int = 0  # non-blank text nodes inside
    inline_len: int = 0  # text of the element's own inline content (not in block children)
    inline_commas: int = 0
    divisive: bool = False  # has a block-level descendant
    direct_text: bool = False
    score: float | None = None
    weight: int = 0
    unlikely: bool = False
    zone: bool = False  # class/id names a related-news / recommendation container
    role: str = ""  # ARIA role, lower-cased
    removed: bool = False
    prose: int = 0  # characters of scored paragraphs inside (not removed)
    end: int = 0  # document order of the last descendant: `b` is inside `a` iff in a's range
    gone: bool = False  # removed, or inside a removed element
    blocked: bool = False  # inside comments, footers, navigation
    no_teasers: bool = False  # comments, footer, navigation, tags... itself

    @property
    def link_density(self) -> float:
        return self.link_len / self.text_len if self.text_len else 0.0


def _visible(attrs: dict[str, str | None]) -> bool:
    """Not hidden by attribute or inline style (what a reader never sees is not the story)."""
    if "hidden" in attrs or (attrs.get("aria-hidden") or "").strip().lower() == "true":
        return False
    style = attrs.get("style")
    if style:
        s = style.replace(" ", "").lower()
        if "display:none" in s or "visibility:hidden" in s:
            return False
    return True


def _attr_words(attrs: dict[str, str | None]) -> str:
    """Class and id, lower-cased. An id that is a slug of prose ("sharing-with-a-developer",
    made from a heading) names no template part and is left out."""
    ident = attrs.get("id") or ""
    if ident.count("-") + ident.count("_") >= 3:
        ident = ""
    prop = attrs.get("itemprop") or ""  # schema.org: itemprop="articleBody"
    return f"{attrs.get('class') or ''} {ident} {prop}".lower()


def _build(root: LexborNode) -> tuple[_El, list[_El]]:
    """Copy the visible part of the DOM into _El nodes (document order list returned too)."""
    top = _El(root.tag or "body", "", None)
    order: list[_El] = []
    stack: list[tuple[LexborNode, _El]] = [(root, top)]
    while stack:
        node, el = stack.pop()
        el.order = len(order)
        order.append(el)
        pending: list[tuple[LexborNode, _El]] = []
        child = node.child
        while child is not None:
            tag = child.tag
            if tag == "-text":
                t = child.text_content
                if t:
                    el.kids.append(t)
            elif tag and tag[:1] not in "-_!" and tag not in _SKIP:
                try:
                    attrs = child.attributes
                except (UnicodeDecodeError, ValueError):  # undecodable attributes: none
                    attrs = {}
                if _visible(attrs):
                    cls = _attr_words(attrs)
                    c = _El(tag, cls, el, href=attrs.get("href") if tag == "a" else None)
                    c.role = (attrs.get("role") or "").strip().lower()
                    if tag in ("img", "picture"):
                        c.n_img = 1
                    el.kids.append(c)
                    pending.append((child, c))
            child = child.next
        stack.extend(reversed(pending))
    return top, order


def _text_len(t: str) -> int:
    return len(" ".join(t.split()))


def _aggregate(order: list[_El]) -> None:
    """Bottom-up sums (children come after their parents in `order`)."""
    for el in reversed(order):
        el.end = el.order
        for k in el.kids:
            if isinstance(k, _El) and k.end > el.end:
                el.end = k.end
        tl = cm = 0
        ll = 0.0
        for k in el.kids:
            if isinstance(k, str):
                n = _text_len(k)
                if n:
                    tl += n
                    cm += len(_COMMAS.findall(k))
                    el.direct_text = True
                    el.n_frag += 1
        tl_total = tl
        il, ic = tl, cm
        for k in el.kids:
            if isinstance(k, _El):
                if k.tag not in _BLOCK and not k.divisive:
                    il += k.text_len
                    ic += k.commas
                tl_total += k.text_len
                ll += k.link_len
                cm += k.commas
                el.n_p += k.n_p + (k.tag == "p")
                el.n_img += k.n_img
                el.n_li += k.n_li + (k.tag == "li")
                el.n_heading_chars += k.n_heading_chars
                el.n_frag += k.n_frag
                if k.divisive or k.tag in _DIVISIVE:
                    el.divisive = True
        el.text_len = tl_total
        if el.tag == "a":
            el.link_len = tl_total * (0.3 if (el.href or "").startswith("#") else 1.0)
        else:
            el.link_len = ll
        el.commas = cm
        el.inline_len, el.inline_commas = il, ic
        if el.tag in _HEADINGS:
            el.n_heading_chars = tl_total


def _class_weight(a: str) -> int:
    if not a.strip():
        return 0
    w = 0
    if _NEGATIVE.search(a):
        w -= 25
    if _POSITIVE.search(a):
        w += 25
    return w


_TAG_BASE = {
    "div": 5, "article": 8, "main": 5, "section": 3, "pre": 3, "td": 3, "blockquote": 3,
    "address": -3, "ol": -3, "ul": -3, "dl": -3, "dd": -3, "dt": -3, "li": -3, "form": -3,
    "h1": -5, "h2": -5, "h3": -5, "h4": -5, "h5": -5, "h6": -5, "th": -5,
}  # fmt: skip


def _unlikely_attrs(a: str) -> bool:
    """Class/id of furniture (and not also of content)."""
    return bool(_UNLIKELY.search(a)) and not _MAYBE.search(a)


def _mark_gone(order: list[_El]) -> None:
    """`gone` for what is removed or inside something removed (one pass, parents first)."""
    for el in order:
        p = el.parent
        el.gone = el.removed or (p is not None and p.gone)


def _is_paragraph(el: _El) -> bool:
    if el.tag in _SCORED:
        return True
    return el.tag in _PARA_LIKE and not el.divisive and el.direct_text


def _score(order: list[_El], strip_unlikely: bool) -> list[_El]:
    """Readability-style voting; returns the scored candidates."""
    for el in order:
        el.score = None
        el.removed = False
        el.prose = 0
    if strip_unlikely:
        for el in order:
            if el.unlikely and el.parent is not None:
                el.removed = True
    _mark_gone(order)
    candidates: list[_El] = []
    for el in order:
        if el.gone:
            continue
        if _is_paragraph(el):
            n, commas, first = el.text_len, el.commas, el.parent
        elif el.divisive and el.inline_len >= 25:
            # Text run straight inside a container ("text<br><br>text<div>ad</div>"): a
            # paragraph of its own, as if wrapped in <p>, whose parent is the container.
            n, commas, first = el.inline_len, el.inline_commas, el
        else:
            continue
        if n < 25:
            continue
        s = 1.0 + commas + min(n // 100, 3)
        if el.link_density < 0.5:
            el.prose += n  # summed up the tree below
        p = first
        level = 0
        while p is not None and level < 5:
            if p.score is None:
                p.score = float(_TAG_BASE.get(p.tag, 0) + p.weight)
                candidates.append(p)
            p.score += s if level == 0 else s / 2 if level == 1 else s / (level * 3)
            p = p.parent
            level += 1
    for el in reversed(order):
        if el.prose and el.parent is not None:
            el.parent.prose += el.prose
    for c in candidates:
        c.score = (c.score or 0.0) * (1.0 - c.link_density)
    return candidates


def _pick(candidates: list[_El], body: _El) -> _El:
    if not candidates:
        return body
    ranked = sorted(candidates, key=lambda c: (-(c.score or 0.0), c.order))
    top = ranked[0]
    top_score = top.score or 0.0
    # Several strong candidates inside one ancestor: the ancestor is the article.
    strong = [c for c in ranked[1:5] if (c.score or 0.0) >= 0.75 * top_score]
    if len(strong) >= 2:
        p = top.parent
        while p is not None and p is not body:
            if sum(1 for c in strong if _contains(p, c)) >= 2:
                top = p
                break
            p = p.parent
    # Climb while the parent scores higher (the story is split over wrappers).
    last = top.score or 0.0
    threshold = last / 3
    p = top.parent
    while last > 0 and p is not None and p is not body:
        if p.score is None:
            p = p.parent
            continue
        if p.score < threshold:
            break
        if p.score > last:
            top = p
            break
        last = p.score
        p = p.parent
    # An only child says nothing: its parent is the container.
    while top.parent is not None and top.parent is not body and _only_child(top):
        top = top.parent
    return top


def _only_child(el: _El) -> bool:
    p = el.parent
    if p is None:
        return False
    els = [k for k in p.kids if isinstance(k, _El)]
    texts = any(isinstance(k, str) and k.strip() for k in p.kids)
    return len(els) == 1 and not texts


def _contains(a: _El, b: _El) -> bool:
    return a.order <= b.order <= a.end


def _siblings(top: _El) -> list[_El]:
    """The top candidate plus the siblings that score like it or read like prose."""
    parent = top.parent
    if parent is None:
        return [top]
    top_score = top.score or 0.0
    threshold = max(10.0, top_score * 0.2)
    out: list[_El] = []
    cousins = _cousins(top)
    for k in parent.kids:
        if not isinstance(k, _El):
            continue
        if k is top:
            out.append(k)
            continue
        if k.removed or k.unlikely:
            continue
        bonus = top_score * 0.2 if k.attrs.strip() and k.attrs == top.attrs else 0.0
        if k.score is not None and k.score + bonus >= threshold:
            out.append(k)
        elif k.tag == "p" or _is_paragraph(k):
            ld = k.link_density
            if (k.text_len > 80 and ld < 0.25) or (0 < k.text_len <= 80 and ld == 0.0):
                text = _plain(k)
                if k.text_len > 80 or re.search(r"\.( |$)", text):
                    out.append(k)
    extra = [c for c in cousins if not any(_contains(o, c) for o in out)]
    return sorted([*out, *extra], key=lambda e: e.order) if extra else out


def _cousins(top: _El) -> list[_El]:
    """Other parts of a story cut into several same-class containers with ads or widgets between
    them (each in its own wrapper, so they are not siblings): same first class word, prose inside,
    under a near common ancestor."""
    if top.prose == 0:
        return []
    node = top  # the content class may sit on the only child of a bare wrapper
    while True:
        first = node.attrs.split()[:1]
        if first and _POSITIVE.search(first[0]):
            break  # a content class ("story-body", "article-text"), not "row" or "col-8"
        kids = [k for k in node.kids if isinstance(k, _El)]
        if len(kids) != 1:
            return []
        node = kids[0]
    key = first[0]
    anc = top.parent
    for _ in range(2):  # the wrapper's parent at most
        if anc is None or anc.parent is None:
            break
        anc = anc.parent
    if anc is None:
        return []
    out: list[_El] = []
    for el in _descendants(anc):
        if el is top or el.prose < 100 or el.removed or el.unlikely:
            continue
        if (
            el.attrs.split()[:1] == [key]
            and not _contains(top, el)
            and not _contains(el, top)
            and not any(_contains(o, el) for o in out)
        ):
            out.append(el)
    return out


def _plain(el: _El) -> str:
    """The element's text as one line (text nodes joined as written, as `_lines` does)."""
    parts: list[str] = []
    stack: list[_El | str] = [el]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            parts.append(x)
        else:
            if x.tag == "br" or x.tag in _BLOCK:
                parts.append(" ")  # a line break or block boundary separates words
            stack.extend(reversed(x.kids))
    return " ".join("".join(parts).split())


# --------------------------------------------------------------------------------------------------
# Cleaning the article region: what is mostly links, images or form controls goes, and so do
# bylines, charts of short labels and furniture named by class/id.


def _clean(region: list[_El], keep: _El) -> list[_El]:
    """Mark junk inside the region removed; return the removed elements (document order)."""
    removed: list[_El] = []
    stack: list[_El] = list(reversed(region))
    while stack:
        el = stack.pop()
        if el.removed:
            continue
        if el is not keep and el.parent is not None and _junk(el):
            el.removed = True
            removed.append(el)
            continue
        stack.extend(reversed([k for k in el.kids if isinstance(k, _El)]))
    return removed


def _junk(el: _El) -> bool:
    tag = el.tag
    a = el.attrs
    if a and el.text_len <= 200 and el.n_p == 0 and tag in _BYLINE_TAGS and _BYLINE.search(a):
        return True  # a byline or date line: who and when, not the story
    if tag in ("nav", "aside", "footer", "form", "fieldset"):
        return True
    if a.strip() and _UNLIKELY.search(a) and not _MAYBE.search(a) and tag not in ("a", "p"):
        return True
    if tag in _HEADINGS:
        return el.weight < 0
    if tag in ("div", "section", "figure") and el.n_frag >= 8 and el.text_len < 12 * el.n_frag:
        return el.commas < 3  # a chart or widget of labels, not prose
    if tag not in ("div", "section", "ul", "ol", "table", "header", "dl"):
        return False
    weight = el.weight
    if weight < 0 and weight + (el.score or 0.0) < 0 and el.commas < 10:
        return True
    if el.commas >= 10:
        return False
    is_list = tag in ("ul", "ol") or (el.n_li > 0 and el.n_p == 0 and tag != "table")
    p = el.n_p
    img = el.n_img
    li = el.n_li - 100
    ld = el.link_density
    tl = el.text_len
    if tl == 0:
        return img == 0
    heading_density = el.n_heading_chars / tl
    if img > 1 and p / img < 0.5:
        return True
    if not is_list and li > p:
        return True
    if not is_list and heading_density < 0.9 and tl < 25 and (img == 0 or img > 2) and ld > 0:
        return True
    if not is_list and weight < 25 and ld > 0.2:
        return True
    return weight >= 25 and ld > 0.5


# --------------------------------------------------------------------------------------------------
# Region -> lines (paragraph-like blocks in document order).


@dataclass(slots=True)
class _Line:
    text: str
    tag: str
    key: tuple[int, int]  # (element's document order, line number): sorts in document order
    link_chars: int
    href: str | None
    link_text: str | None


class _Lines:
    """Accumulates inline text into lines, split at block elements and <br>."""

    def __init__(self) -> None:
        self.out: list[_Line] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.href: str | None = None
        self.link_text: str | None = None
        self.tag = "p"
        self.order = 0

    def flush(self) -> None:
        if self.parts:
            text = " ".join("".join(self.parts).split())
            if text:
                self.out.append(
                    _Line(text, self.tag, (self.order, len(self.out)),
                          min(self.link_chars, len(text)), self.href, self.link_text)
                )  # fmt: skip
        self.parts = []
        self.link_chars = 0
        self.href = None
        self.link_text = None


def _lines(roots: list[_El], *, skip_removed: bool = True) -> list[_Line]:
    acc = _Lines()
    # Stack of (node, block tag, inside-link); the sentinel "flush" closes a block element.
    stack: list[tuple[_El | str | None, str, _El | None]] = [
        (r, r.tag if r.tag in _BLOCK else "p", None) for r in reversed(roots)
    ]
    while stack:
        node, btag, link = stack.pop()
        if node is None:
            acc.flush()
            continue
        if isinstance(node, str):
            if node and (acc.parts or not node.isspace()):
                if not acc.parts:
                    acc.tag = btag
                acc.parts.append(node)
                if link is not None:
                    acc.link_chars += len(node.strip())
            continue
        if skip_removed and node.removed:
            if node.tag in _BLOCK or node.divisive:
                # Text on either side of a dropped block (or of an inline element wrapping
                # one: "<a><h2>Read also</h2></a>") is not one line.
                acc.flush()
            continue
        tag = node.tag
        if tag == "br":
            acc.flush()
            continue
        if tag == "a" and link is None:
            if acc.href is None:
                acc.href = node.href
            lt = _plain(node)
            if lt and (acc.link_text is None or len(lt) > len(acc.link_text)):
                acc.link_text = lt
            link = node
        is_block = tag in _BLOCK
        if is_block:
            acc.flush()
            acc.order = node.order
            btag = tag
            stack.append((None, btag, link))
        elif not acc.parts:
            acc.order = node.order
        for k in reversed(node.kids):
            stack.append((k, btag, link))
    acc.flush()
    return acc.out


# --------------------------------------------------------------------------------------------------
# Title.


def _norm_words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def _meta_titles(tree: LexborHTMLParser) -> list[str]:
    """og:title, twitter:title, meta title, then <title> (always last, when there is one)."""
    out: list[str] = []
    for sel in ('meta[property="og:title"]', 'meta[name="twitter:title"]', 'meta[name="title"]'):
        n = tree.css_first(sel)
        if n is not None:
            c = n.attributes.get("content")
            if c and c.strip():
                out.append(" ".join(c.split()))
    doc = _doc_title(tree)
    if doc:
        out.append(doc)
    return out


def _doc_title(tree: LexborHTMLParser) -> str | None:
    head = tree.head
    t = head.css_first("title") if head is not None else tree.css_first("title")
    return " ".join(t.text(deep=True).split()) or None if t is not None else None


def _dice(a: str, b: str) -> float:
    wa, wb = set(_norm_words(a)), set(_norm_words(b))
    if not wa or not wb:
        return 0.0
    return 2 * len(wa & wb) / (len(wa) + len(wb))


def _pick_title(
    heads: list[_El], metas: list[str], doc_title: str | None, region: list[_El]
) -> tuple[str | None, _El | None]:
    """The page heading most like the document's <title>/og:title (a site-logo <h1> shares a
    word or two with the <title>, the story's heading most of them), preferring one in or
    beside the article region; else the meta title itself. Returns the heading element too."""
    fallback = _meta_title(metas, doc_title)
    names = [*metas, *([fallback] if fallback else [])]
    best: tuple[float, int] | None = None
    choice: tuple[str, _El] | None = None
    near_h1: list[tuple[str, _El]] = []
    for i, h in enumerate(heads):
        text = _PERMALINK.sub("", _plain(h))
        if not text or len(text) > 300:
            continue
        sim = max((_dice(text, m) for m in names if m), default=0.0)
        near = any(_near(r, h) for r in region)
        if near and h.tag == "h1":
            near_h1.append((text, h))
        if sim < 0.5:
            continue
        key = (sim + (0.2 if near else 0.0) + (0.1 if h.tag == "h1" else 0.0), -i)
        if best is None or key > best:
            best, choice = key, (text, h)
    if choice is None and len(near_h1) == 1:
        choice = near_h1[0]  # the article's own heading, whatever <title> says
    return choice if choice is not None else (fallback, None)


def _near(region_el: _El, h: _El) -> bool:
    """In the article element, or in its wrapper (unless that wrapper is the whole page)."""
    p = region_el.parent
    return _contains(region_el, h) or (p is not None and p.parent is not None and _contains(p, h))


def _meta_title(metas: list[str], doc_title: str | None) -> str | None:
    """og:title, else <title> without its site-name part (the longest separated segment)."""
    if not metas:
        return None
    t = metas[0]
    if t != doc_title:
        return t  # og:title / twitter:title: the story's own title
    parts = [p for p in _TITLE_SEP.split(t) if p.strip()]
    if len(parts) > 1:
        longest = max(parts, key=len)
        if len(_norm_words(longest)) >= 3:
            return longest.strip()
    return t


# --------------------------------------------------------------------------------------------------
# Teasers.


def _headline(text: str, href: str | None) -> bool:
    """Link text with a headline's length, to another page."""
    h = (href or "").strip().lower()
    if not h or h.startswith(("#", "javascript:", "mailto:")):
        return False  # tables of contents, page tools
    if _MORE_LINK.search(text):
        return False  # "View more stories »": a link to a list, not a story
    if "<" in text and _TAGLIKE.search(text):
        return False  # escaped markup shown as text: a broken widget
    return 20 <= len(text) <= 300 and 4 <= len(_norm_words(text)) <= 40


def _headline_link(line: _Line) -> bool:
    """A line that is (mostly) one headline link."""
    text = line.link_text or ""
    return line.link_chars >= 0.75 * len(line.text) and _headline(text, line.href)


def _zone_headlines(zone: _El, order: list[_El]) -> list[tuple[tuple[int, int], str, str | None]]:
    """Each link of a teaser zone whose text (or, for a card, its first line) is a headline;
    image links and "more" links are passed over."""
    out: list[tuple[tuple[int, int], str, str | None]] = []
    for el in order[zone.order : zone.end + 1]:  # the zone's subtree, in document order
        if el.tag != "a" or not el.text_len:
            continue
        for ln in _lines([el], skip_removed=False):
            if _headline(ln.text, el.href):
                out.append((ln.key, ln.text, el.href))
                break
    return out


def _zone_attrs(a: str) -> bool:
    return bool(_TEASER_ZONE.search(a) and not _NOT_TEASER.search(a))


def _teaser_zones(order: list[_El], region: list[_El]) -> list[_El]:
    """Outermost related-news / recommendation containers, in or out of the article region
    (never one that holds the region, nor one in comments, footers or navigation)."""
    around: set[int] = set()
    for r in region:
        p: _El | None = r
        while p is not None:
            around.add(id(p))
            p = p.parent
    zones: list[_El] = []
    for el in order:
        if id(el) in around:
            continue
        if not el.zone:
            continue
        if el.link_density < 0.25 and el.prose >= 300:
            continue  # prose named "read-more" (text behind a button) is the story itself
        if zones and _contains(zones[-1], el):
            continue
        if not el.blocked and not el.no_teasers:
            zones.append(el)
    return zones


def _descendants(el: _El) -> list[_El]:
    out: list[_El] = []
    stack = [el]
    while stack:
        x = stack.pop()
        out.append(x)
        stack.extend(k for k in x.kids if isinstance(k, _El))
    return out


def _facts(order: list[_El]) -> None:
    """Class/id facts of every element (memoised: class strings repeat a lot on a page)."""
    memo: dict[str, tuple[int, bool, bool, bool]] = {}
    for el in order:
        a = el.attrs
        if a.strip():
            facts = memo.get(a)
            if facts is None:
                facts = memo[a] = (
                    _class_weight(a),
                    _unlikely_attrs(a),
                    _zone_attrs(a),
                    bool(_NOT_TEASER.search(a)),
                )
            el.weight, el.unlikely, el.zone, el.no_teasers = facts
        el.no_teasers = el.no_teasers or el.tag in ("footer", "nav") or el.role in _BLOCK_ROLES
        p = el.parent
        el.blocked = p is not None and (p.blocked or p.no_teasers)
        if el.tag in ("nav", "aside", "footer") or el.role in _NO_ROLE:
            el.unlikely = True
        elif el.tag in ("body", "a", "main", "article"):
            el.unlikely = False
        # A block headed "Read also" / "Related news" / "Популярне" is a teaser zone too.
        if (
            el.tag in _LABELS
            and el.parent is not None
            and el.parent.parent is not None
            and el.parent.link_density >= 0.5
            and el.parent.text_len <= 3000
            and 0 < el.text_len <= 40
            and _MARKER_ONLY.match(_plain(el))
        ):
            el.parent.zone = True


# Attempts, strictest first: (remove furniture before scoring, use class/id weights, clean the
# region). Sites that name their wrappers oddly lose their story to the strict attempt.
_ATTEMPTS = ((True, True, True), (False, True, True), (False, False, True), (False, False, False))
_ENOUGH = 500  # characters of prose lines that make an attempt good enough


def _prose_size(lines: list[_Line]) -> int:
    """Characters in sentence-length lines that are not mostly links (menus, tags, share
    buttons and bylines do not count, so a looser attempt does not win by collecting them)."""
    return sum(
        len(ln.text)
        for ln in lines
        if len(ln.text) >= 40 and ln.tag not in _HEADINGS and ln.link_chars < 0.3 * len(ln.text)
    )


def _attempt(
    order: list[_El], top: _El, flags: tuple[bool, bool, bool], weights: list[int]
) -> tuple[list[_El], list[_Line], list[_El]]:
    strip, use_weights, clean = flags
    for el, w in zip(order, weights, strict=True):
        el.weight = w if use_weights else 0
    art = _pick(_score(order, strip), top)
    region = _siblings(art)
    if clean:
        _clean(region, art)
    zones = _teaser_zones(order, region)
    for z in zones:
        z.removed = True  # its headlines are teasers, not lead
    return region, _lines(region), zones


def _article(order: list[_El], top: _El) -> tuple[list[_El], list[_Line], list[_El]]:
    """Region, its lines, teaser zones: the first attempt that finds
    enough text; failing that, the strictest one that finds most of what the loosest found (a
    short story must not pull in the share buttons and tag lists a looser attempt keeps)."""
    weights = [el.weight for el in order]
    sizes: list[int] = []
    for flags in _ATTEMPTS:
        found = _attempt(order, top, flags, weights)
        size = _prose_size(found[1])
        if size >= _ENOUGH:
            return found
        sizes.append(size)
    most = max(sizes)
    best = next(i for i, n in enumerate(sizes) if n >= 0.75 * most)
    if best == len(sizes) - 1:
        return found
    return _attempt(order, top, _ATTEMPTS[best], weights)


def _base_url(tree: LexborHTMLParser, url: str | None) -> str | None:
    if not url:
        return None
    node = tree.css_first("base[href]")
    href = node.attributes.get("href") if node is not None else None
    return _absolute(href, url) if href else url


def _absolute(href: str | None, base: str | None) -> str | None:
    if href is None or base is None:
        return href
    try:
        return urljoin(base, href.strip())
    except ValueError:  # a malformed URL (bad IPv6 literal, ...): keep it as written
        return href


def _empty() -> SplitResult:
    return SplitResult(title=None, lead=[], teasers=[], boilerplate=[])  # fresh lists each time


def split_page(html: str, url: str | None = None) -> SplitResult:
    """Split a whole page: title, the article's paragraphs as lead, other stories as teasers.

    With the page's `url`, teaser links are made absolute (against <base href> when the page
    has one); without it they are returned as the page wrote them."""
    if not html or not html.strip():
        return _empty()
    tree = LexborHTMLParser(html)
    body = tree.body or tree.root
    if body is None:
        return _empty()
    metas = _meta_titles(tree)
    base_url = _base_url(tree, url)
    top, order = _build(body)
    _aggregate(order)
    _facts(order)
    region, lines, zones = _article(order, top)

    # Title: the page heading that <title>/og:title names, else og:title / <title> itself.
    heads = [el for el in order if el.tag in ("h1", "h2") and el.text_len]
    title, title_el = _pick_title(heads, metas, _doc_title(tree), region)
    title_key = _norm_words(title) if title else None

    kept: list[_Line] = []  # lead lines
    teasers: list[tuple[tuple[int, int], str, str | None]] = []
    boiler: list[str] = []
    marker_run = False
    for ln in lines:
        text = ln.text
        if title_el is not None and title_el.order <= ln.key[0] <= title_el.end:
            continue  # the title heading itself
        if title_key is not None and _norm_words(text) == title_key:
            continue  # the headline repeated in the article region
        if (
            ln.tag == "figcaption"
            or (len(text) <= 60 and _FURNITURE.match(text))
            or (len(text) <= 120 and _CREDIT.match(text))
            or (len(text) <= 250 and _APPEAL.search(text) and _CHANNEL.search(text))
        ):
            boiler.append(text)  # captions, credits, "Advertisement": not the story's text
            continue
        if _MARKER_ONLY.match(text):
            boiler.append(text)  # "Read also:" announcing the link lines that follow
            marker_run = True
            continue
        m = _MARKER_PREFIX.match(text) if len(text) <= 400 else None
        if m is not None:
            teasers.append((ln.key, text[m.end() :].strip() or text, ln.href))
            marker_run = False
            continue
        if marker_run and ln.link_chars >= 0.5 * len(text):
            teasers.append((ln.key, ln.link_text or text, ln.href))
            continue
        marker_run = False
        kept.append(ln)

    # A trailing run of headline links after the story is a related-news list.
    i = len(kept)
    while i > 0 and _headline_link(kept[i - 1]):
        i -= 1
    if len(kept) - i >= 2 and i > 0:
        teasers.extend((ln.key, ln.link_text or ln.text, ln.href) for ln in kept[i:])
        del kept[i:]

    # Related-news blocks and recommendation widgets, named so by class/id or by their heading.
    # Unnamed link lists are left out: tables of contents, category and download lists look
    # just like them, and a wrong teaser is an event other teams receive.
    for z in zones:
        teasers.extend(_zone_headlines(z, order))

    # Positions: index in the document-ordered sequence of the title, lead and teaser lines.
    teasers.sort(key=lambda t: t[0])
    seq = sorted([ln.key for ln in kept] + [t[0] for t in teasers])
    pos_of = {key: i for i, key in reversed(list(enumerate(seq)))}
    base = 1 if title else 0
    out: list[Teaser] = []
    last: tuple[int, int] | None = None
    for key, text, href in teasers:
        if key != last and text:
            link = _absolute(href, base_url)
            out.append(Teaser(text=text, position=pos_of[key] + base, link=link))
        last = key
    return SplitResult(title=title, lead=[ln.text for ln in kept], teasers=out, boilerplate=boiler)
