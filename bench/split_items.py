"""Split items built from labelled records the way ``eval-dev/split.jsonl`` is built.

``../shared/eval-dev/LABELING.md``: the excerpt's T/L/B paragraphs in page order (its own S
paragraphs stay where they are, as teasers), then in most items a block of 3-14 teasers taken
from the first paragraphs or headlines of OTHER excerpts of the same language, sometimes partly
repeated; about a fifth have no teaser block, a few are digests of teasers only; about a third
are rendered as HTML. The shapes below were measured on ``split.jsonl`` (106 items):

* teasers: a whole lead paragraph (mostly the first, sometimes the second or third) or its first
  sentence(s); headlines now and then (5 %); never shorter than 8 words and 50 characters;
  36 of the 88 blocks repeat their first 2-5 teasers at the end;
* text items separate paragraphs by a blank line (half), a single newline (the other half) or a
  blank line after the headline and single newlines below it;
* HTML items are an ``<article>`` of ``<h1>`` (headline), ``<p>`` (body), ``<figcaption>`` or
  ``<p>`` (boilerplate), and a teaser block as ``<p><strong>Читайте також:</strong> <a>…</a></p>``
  lines, one ``<div class="news-list"><ul><li><a>…</a></li>…</ul></div>``, or plain ``<p>``s.

Everything is a pure function of the records and the seed (``random.Random`` seeded per item), so
the same records always give the same items. Gold is ``split.jsonl``'s (title, lead, teasers in
document order with repeats) plus ``boilerplate`` (the B paragraphs, for boilerplate P/R).

    python -m bench.split_items [--stats]   # statistics of built items next to split.jsonl's
"""

from __future__ import annotations

import argparse
import html
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from typing import Any

_SENT = re.compile(r"(?<=[.!?…])\s+(?=[\"«„“(]?[A-ZА-ЯІЇЄҐЁ0-9])")
P_DIGEST = 0.08
P_NO_BLOCK = 0.18
P_HTML = 0.36
P_REPEAT = 0.4
P_SAME_LANG = 0.95
# Measured on split.jsonl's 838 teasers against the dev records they come from: 5 % are
# headlines, the rest whole opening paragraphs or their first sentences, of the story's first,
# second or third lead paragraph (85 / 13 / 2 % of those; LEAD_INDEX_WEIGHTS is a little
# flatter, 82 / 14 / 3 / 1, and indexes the paragraphs long enough to be teasers); none under
# 8 words or 50 characters (whole paragraphs: none under 10 words) but two cut mid-word.
# A paragraph of several sentences gives its first one (84 %) or two: always when it is longer
# than MAX_WHOLE_CHARS (no whole-paragraph teaser is), else two times in three.
P_HEADLINE = 0.05
P_FIRST_SENTENCES = 0.66
MAX_WHOLE_CHARS = 340
LEAD_INDEX_WEIGHTS = (82, 14, 3, 1)
MIN_TEASER_WORDS = 8
MIN_TEASER_CHARS = 50


def _sentences(text: str) -> list[str]:
    return [s for s in _SENT.split(text) if s]


def _teaser_from(rec: dict[str, Any], rng: random.Random) -> str | None:
    """A headline or an opening lead paragraph (or its first sentences) of ``rec``.

    Only texts of a teaser's size: in ``split.jsonl`` no teaser is shorter than
    ``MIN_TEASER_WORDS`` words and ``MIN_TEASER_CHARS`` characters (two truncated ones aside), so
    short headlines, subheadings ("Summary") and one-line lead paragraphs are never taken.
    """
    paras, labels = rec["paras"], rec["labels"]
    leads = [
        str(p) for p, lab in zip(paras, labels, strict=True) if lab == "L" and _teaser_sized(p)
    ]
    heads = [
        str(p) for p, lab in zip(paras, labels, strict=True) if lab == "T" and _teaser_sized(p)
    ]
    if heads and (not leads or rng.random() < P_HEADLINE):
        return heads[0]
    if not leads:
        return None
    k = min(len(leads) - 1, rng.choices(range(len(LEAD_INDEX_WEIGHTS)), LEAD_INDEX_WEIGHTS)[0])
    text = leads[k]
    sents = _sentences(text)
    if len(sents) >= 2 and (len(text) > MAX_WHOLE_CHARS or rng.random() < P_FIRST_SENTENCES):
        cut = " ".join(sents[: rng.choices((1, 2), (84, 16))[0]] if len(sents) > 2 else sents[:1])
        if _teaser_sized(cut):
            text = cut
    return text


def _teaser_sized(text: str) -> bool:
    return len(text) >= MIN_TEASER_CHARS and len(text.split()) >= MIN_TEASER_WORDS


def _teaser_block(
    main: dict[str, Any] | None, pool: Sequence[dict[str, Any]], rng: random.Random, m: int
) -> list[str]:
    lang = main["lang"] if main is not None else None
    others = [r for r in pool if main is None or r["url"] != main["url"]]
    same = [r for r in others if r.get("lang") == lang] if lang else others
    out: list[str] = []
    tries = 0
    while len(out) < m and tries < 4 * m + 8:
        tries += 1
        src = same if same and rng.random() < P_SAME_LANG else others
        if not src:
            break
        t = _teaser_from(rng.choice(src), rng)
        if t and t not in out:
            out.append(t)
    if len(out) >= 3 and rng.random() < P_REPEAT:
        out += out[: rng.randint(2, min(5, len(out)))]
    return out


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _render_html(blocks: list[tuple[str, str]], rng: random.Random) -> str:
    """``blocks``: (label, text) with label T/L/B/S (own teaser) or K (teaser block)."""
    lines = ["<article>"]
    style = rng.choices(("bold", "list", "plain"), weights=(45, 35, 20))[0]
    own_style = rng.choice(("bold", "list", "plain"))
    n = 0
    i = 0
    while i < len(blocks):
        lab, text = blocks[i]
        if lab == "T":
            lines.append(f"<h1>{_esc(text)}</h1>")
        elif lab == "L":
            lines.append(f"<p>{_esc(text)}</p>")
        elif lab == "B":
            tag = "figcaption" if rng.random() < 0.5 else "p"
            lines.append(f"<{tag}>{_esc(text)}</{tag}>")
        else:
            st = own_style if lab == "S" else style
            if st == "list":
                j = i
                items = []
                while j < len(blocks) and blocks[j][0] == lab:
                    href = f"https://example.org/n/{n + j - i}"
                    items.append(f'<li><a href="{href}">{_esc(blocks[j][1])}</a></li>')
                    j += 1
                lines.append('<div class="news-list"><ul>' + "".join(items) + "</ul></div>")
                n += j - i
                i = j
                continue
            if st == "bold":
                lines.append(
                    f'<p><strong>Читайте також:</strong> <a href="https://example.org/n/{n}">'
                    f"{_esc(text)}</a></p>"
                )
            else:
                lines.append(f"<p>{_esc(text)}</p>")
        if lab != "T":
            n += 1
        i += 1
    lines.append("</article>")
    return "\n".join(lines)


def _render_text(blocks: list[tuple[str, str]], rng: random.Random) -> str:
    mode = rng.choices(("blank", "single", "head"), weights=(48, 44, 8))[0]
    if mode == "head" and blocks and blocks[0][0] == "T":
        return blocks[0][1] + "\n\n" + "\n".join(t for _, t in blocks[1:])
    sep = "\n\n" if mode == "blank" else "\n"
    return sep.join(t for _, t in blocks)


def build_item(
    main: dict[str, Any], pool: Sequence[dict[str, Any]], *, seed: int = 0, variant: int = 0
) -> dict[str, Any]:
    """One split item around ``main`` with teasers from ``pool`` (``split.jsonl`` row shape)."""
    rng = random.Random(f"{seed}:{variant}:{main['url']}")
    u = rng.random()
    digest = u < P_DIGEST
    no_block = not digest and u < P_DIGEST + P_NO_BLOCK
    blocks: list[tuple[str, str]] = []
    if not digest:
        blocks = [
            (lab, p) for p, lab in zip(main["paras"], main["labels"], strict=True) if lab in "TLBS"
        ]
    if not no_block:
        m = rng.randint(3, 14) if not digest else rng.randint(4, 10)
        blocks += [("K", t) for t in _teaser_block(main, pool, rng, m)]
    as_html = rng.random() < P_HTML
    title = blocks[0][1] if blocks and blocks[0][0] == "T" else None
    gold = {
        "title": title,
        "lead": [t for lab, t in blocks if lab == "L"],
        "teasers": [t for lab, t in blocks if lab in "SK"],
        "boilerplate": [t for lab, t in blocks if lab == "B"],
    }
    row: dict[str, Any] = {"id": f"{main['rid']}-{seed}-{variant}", "site": main["site"]}
    if as_html:
        row["html"] = _render_html(blocks, rng)
    else:
        row["text"] = _render_text(blocks, rng)
    row["gold"] = gold
    row["labels"] = "".join("S" if lab == "K" else lab for lab, _ in blocks)
    return row


def build_items(
    records: Sequence[dict[str, Any]],
    pool: Sequence[dict[str, Any]] | None = None,
    *,
    seed: int = 0,
    variants: int = 1,
) -> list[dict[str, Any]]:
    """``variants`` items per record; teasers drawn from ``pool`` (default: ``records``)."""
    pool = records if pool is None else pool
    return [build_item(r, pool, seed=seed, variant=v) for v in range(variants) for r in records]


def stats(rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Shape statistics comparable between built items and ``split.jsonl``."""
    n = len(rows) or 1
    teasers = [len(r["gold"]["teasers"]) for r in rows]
    rep = sum(
        1 for r in rows if len(dict.fromkeys(r["gold"]["teasers"])) < len(r["gold"]["teasers"])
    )
    seps: Counter[str] = Counter()
    for r in rows:
        if "text" in r:
            t = r["text"]
            seps["blank" if "\n\n" in t and t.count("\n\n") * 2 >= t.count("\n") else "single"] += 1
    return {
        "items": len(rows),
        "html": round(sum("html" in r for r in rows) / n, 3),
        "no_teasers": round(sum(not t for t in teasers) / n, 3),
        "digests": round(sum(not r["gold"]["lead"] for r in rows) / n, 3),
        "with_title": round(sum(bool(r["gold"]["title"]) for r in rows) / n, 3),
        "mean_teasers": round(sum(teasers) / n, 2),
        "max_teasers": max(teasers or [0]),
        "repeating": round(rep / n, 3),
        "mean_lead": round(sum(len(r["gold"]["lead"]) for r in rows) / n, 2),
        "text_blank_sep": round(seps["blank"] / max(1, sum(seps.values())), 3),
        "short_teasers": round(
            sum(len(t.split()) < MIN_TEASER_WORDS for r in rows for t in r["gold"]["teasers"])
            / max(1, sum(teasers)),
            3,
        ),
        "teaser_words": round(
            sum(len(t.split()) for r in rows for t in r["gold"]["teasers"]) / max(1, sum(teasers)),
            1,
        ),
    }


def main(argv: Sequence[str] | None = None) -> int:
    from bench.corpus import split_rows
    from bench.labelled import all_records, dev_records

    ap = argparse.ArgumentParser(prog="bench.split_items", description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    dev = dev_records()
    print("split.jsonl        ", stats(split_rows()))
    print("built (dev records)", stats(build_items(dev, seed=args.seed)))
    recs = all_records()
    print(f"built (all {len(recs)}) ", stats(build_items(recs, seed=args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
