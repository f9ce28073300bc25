"""HTML -> ordered text blocks, with the link facts the splitter needs.

Kept separate from the splitter so the parsing (selectolax/lexbor, fast C) is the only place that
knows about markup; the splitter then treats HTML and plain text as the same block sequence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["Block", "html_blocks"]

# Elements that start a new paragraph. Anything else is inline and joins the current line.
_BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "main", "aside", "header", "footer", "nav", "ul", "ol",
        "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
        "blockquote", "pre", "table", "thead", "tbody", "tr", "td", "th", "caption", "form",
        "address", "hr", "body", "html", "details", "summary",
    }
)  # fmt: skip
_SKIP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "iframe",
        "head",
        "button",
        "select",
        "input",
    }
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_WS = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph-like unit: its collapsed text plus how much of it is link text."""

    text: str
    tag: str = "p"  # innermost enclosing block element ("p", "li", "h1", "figcaption", ...)
    link_chars: int = 0  # characters of `text` that sit inside <a>
    href: str | None = None  # first link target inside the block
    link_text: str | None = None  # text of the longest link, when there is one
    bold_prefix: str | None = None  # leading <strong>/<b> text ("Читайте також:")

    @property
    def link_density(self) -> float:
        n = len(self.text.replace(" ", ""))
        return self.link_chars / n if n else 0.0


class _Acc:
    """Accumulates inline text of the block being built (lines split at <br>)."""

    __slots__ = ("bold", "href", "link_chars", "links", "out", "parts", "tag")

    def __init__(self, out: list[Block]) -> None:
        self.out = out
        self.parts: list[str] = []
        self.link_chars = 0
        self.href: str | None = None
        self.links: list[str] = []
        self.bold: str | None = None
        self.tag = "p"

    def flush(self) -> None:
        if self.parts:
            text = _WS.sub(" ", "".join(self.parts)).strip()
            if text:
                link_text = max(self.links, key=len) if self.links else None
                bold = self.bold.strip() if self.bold else None
                self.out.append(
                    Block(
                        text, self.tag, min(self.link_chars, len(text)), self.href, link_text, bold
                    )
                )
        self.parts = []
        self.link_chars = 0
        self.href = None
        self.links = []
        self.bold = None


def _walk(node: LexborNode, acc: _Acc, block_tag: str, in_link: bool) -> None:
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            t = child.text_content or ""
            if t:
                acc.parts.append(t)
                acc.tag = block_tag
                if in_link:
                    acc.link_chars += len(_WS.sub("", t))
            continue
        if tag is None or tag.startswith("-") or tag in _SKIP_TAGS:
            continue
        if tag == "br":
            acc.flush()
            continue
        if tag in _BLOCK_TAGS:
            acc.flush()
            _walk(child, acc, tag, in_link)
            acc.flush()
            continue
        if tag == "a":
            if acc.href is None:
                acc.href = child.attributes.get("href")
            acc.links.append(_WS.sub(" ", child.text(deep=True)).strip())
            _walk(child, acc, block_tag, True)
            continue
        if tag in ("strong", "b") and not "".join(acc.parts).strip():
            acc.bold = child.text(deep=True)
        _walk(child, acc, block_tag, in_link)


def html_blocks(html: str) -> list[Block]:
    """Return the visible text blocks of `html` in document order (never raises on bad markup)."""
    if not html or not html.strip():
        return []
    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return []
    out: list[Block] = []
    acc = _Acc(out)
    _walk(root, acc, "p", False)
    acc.flush()
    return out
