"""The dev server's content: built from the shared excerpts (read in place) or the samples."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from streams.feeds.devserver import (
    EXCERPTS,
    build_items_from_shared,
    render_atom,
    render_rss,
    shared_dir,
)
from streams.feeds.parse import parse_feed

SHARED_EXCERPTS = shared_dir() / EXCERPTS


def test_samples_fallback_builds_four_feeds() -> None:
    feeds = build_items_from_shared(samples_only=True)
    assert set(feeds) == {"uk-news", "uk-digest", "ru-news", "en-news"}
    for fmt, items in feeds.values():
        assert fmt in ("rss", "atom") and items
        for item in items:
            assert item.content.strip() and item.title and item.guid
            if item.html:
                assert item.content.startswith("<h1>")
            else:
                assert item.content.startswith(item.title + "\n\n")


def test_shared_dir_honours_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEWS_SHARED_DIR", str(tmp_path))
    assert shared_dir() == tmp_path
    # Nothing there: the samples are used instead of failing.
    assert build_items_from_shared() == build_items_from_shared(samples_only=True)


@pytest.mark.skipif(
    not SHARED_EXCERPTS.is_file(), reason=f"shared excerpts absent: {SHARED_EXCERPTS}"
)
def test_shared_excerpts_become_seed_like_items() -> None:
    feeds = build_items_from_shared()
    items = [item for _, group in feeds.values() for item in group]
    assert len(items) >= 563
    assert len({item.guid for item in items}) == len(items)
    # The same story syndicated into two feeds under different guids.
    titles = Counter(item.title for item in feeds["uk-news"][1] + feeds["uk-digest"][1])
    assert any(count > 1 for count in titles.values())
    # Teaser blocks: most items carry paragraphs from other stories.
    with_teasers = sum("Read also" in i.content for i in items if i.html)
    assert with_teasers > 0.5 * sum(i.html for i in items)


@pytest.mark.parametrize("fmt", ["rss", "atom"])
def test_rendered_feeds_parse_back(fmt: str) -> None:
    _, items = build_items_from_shared(samples_only=True)["en-news"]
    body = (render_rss if fmt == "rss" else render_atom)("t", "https://dev.invalid/", items)
    parsed = parse_feed("en", body.encode())
    assert parsed.bozo_reason is None
    assert [i["title"] for i in parsed.items] == [i.title for i in items]
    assert all(i["content_type"] == "text/html" for i in parsed.items)
    assert all(i["published"] for i in parsed.items)
