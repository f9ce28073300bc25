"""HTML -> ordered text blocks, with the link facts the splitter needs.

Kept separate from the splitter so the parsing (selectolax/lexbor, fast C) is the only place that
knows about markup; the splitter then treats HTML and plain text as the same block sequence.
"""

from __future__ import annotations

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


def _collapse(text: str) -> str:
    """Whitespace runs -> one space, trimmed (re's \\s and str.split() agree on whitespace).

    Printable text has no whitespace but the ASCII space, so most lines need no work at all."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _non_space_len(text: str) -> int:
    if text.isprintable():
        return len(text) - text.count(" ")
    return len("".join(text.split()))


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
        parts = self.parts
        if parts:
            text = _collapse("".join(parts))
            if text:
                links = self.links
                link_text = max(links, key=len) if links else None
                bold = self.bold.strip() if self.bold else None
                n = len(text)
                lc = self.link_chars
                self.out.append(
                    Block(text, self.tag, lc if lc < n else n, self.href, link_text, bold)
                )
            parts.clear()
            self.link_chars = 0
        # (link_chars only grows together with parts)
        if self.href is not None or self.links or self.bold is not None:
            self.href = None
            self.links.clear()
            self.bold = None


def _walk(node: LexborNode, acc: _Acc, block_tag: str, in_link: bool) -> None:
    parts = acc.parts  # the same list for the whole walk (flush clears it in place)
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            t = child.text_content
            # Whitespace opening a line would be trimmed anyway (and all text nodes of a line
            # share one block tag): skip it, so that lines between tags stay empty.
            if t and (parts or not t.isspace()):
                parts.append(t)
                acc.tag = block_tag
                if in_link:
                    acc.link_chars += _non_space_len(t)
        elif tag is None or tag[:1] == "-" or tag in _SKIP_TAGS:
            continue
        elif tag in _BLOCK_TAGS:
            if parts or acc.href is not None or acc.links or acc.bold is not None:
                acc.flush()
            _walk(child, acc, tag, in_link)
            if parts or acc.href is not None or acc.links or acc.bold is not None:
                acc.flush()
        elif tag == "br":
            acc.flush()
        elif tag == "a":
            if acc.href is None:
                acc.href = child.attributes.get("href")
            acc.links.append(_collapse(child.text(deep=True)))
            _walk(child, acc, block_tag, True)
        else:
            if (tag == "strong" or tag == "b") and not "".join(parts).strip():
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
