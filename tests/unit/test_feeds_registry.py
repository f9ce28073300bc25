"""The feeds file: valid files load, every mistake is reported with its line and feed."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.feeds.registry import Feed, RegistryError, enabled, load_feeds, parse_feeds

EXAMPLE = Path(__file__).resolve().parents[2] / "streams" / "feeds" / "feeds.example.yaml"


def test_valid_file_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n"
        "  - id: kyiv\n"
        "    url: https://example.org/rss\n"
        "  - id: lviv.news_2\n"
        "    url: http://example.org:8080/atom.xml\n"
        "    interval_s: 30\n"
        "    enabled: false\n",
        encoding="utf-8",
    )
    feeds = load_feeds(path)
    assert feeds == [
        Feed("kyiv", "https://example.org/rss"),
        Feed("lviv.news_2", "http://example.org:8080/atom.xml", 30.0, False),
    ]
    assert enabled(feeds) == feeds[:1]
    assert feeds[0].interval(300.0) == 300.0
    assert feeds[1].interval(300.0) == 30.0


def test_example_file_is_valid() -> None:
    feeds = load_feeds(EXAMPLE)
    assert len(feeds) >= 3
    assert all(f.url.startswith("https://") for f in feeds)


def test_empty_list_is_allowed() -> None:
    assert parse_feeds("feeds: []\n") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "feeds:\n  - id: a\n    url: http://x.org/\n  - id: a\n    url: http://y.org/\n",
            r"f\.yaml:4: feed 'a': duplicate id \(first defined on line 2\)",
        ),
        ("feeds:\n  - id: a\n    url: ftp://x.org/\n", r"f\.yaml:2: feed 'a': 'url' must be"),
        ("feeds:\n  - id: a\n    url: /relative\n", r"feed 'a': 'url' must be an absolute"),
        ("feeds:\n  - id: a\n    url: http://x.org:99999/\n", r"invalid port"),
        ("feeds:\n  - id: a\n", r"feed 'a': 'url' is required"),
        (
            "feeds:\n  - {id: a, url: 'http://x.org/', intervl: 3}\n",
            r"f\.yaml:2: feed 'a': unknown key\(s\) intervl "
            r"\(allowed: enabled, full_text, id, interval_s, schedule, url\)",
        ),
        ("feeds:\n  - id: a\n    url: http://x.org/\n    interval_s: 0\n", r"positive number"),
        ("feeds:\n  - id: a\n    url: http://x.org/\n    interval_s: true\n", r"positive"),
        ("feeds:\n  - id: a\n    url: http://x.org/\n    enabled: 'yes'\n", r"true or false"),
        ("feeds:\n  - url: http://x.org/\n", r"f\.yaml:2: feed #1: 'id' must be"),
        ("feeds:\n  - id: 'bad id!'\n    url: http://x.org/\n", r"'id' must be"),
        ("feeds:\n  - just-a-string\n", r"f\.yaml:2: feed #1: must be a mapping"),
        ("feeds: 3\n", r"'feeds' must be a list"),
        ("other: []\n", r"unknown top-level key\(s\): other"),
        ("", r"empty feeds file"),
        ("- a\n- b\n", r"top level must be a mapping"),
        ("feeds: [\n", r"not valid YAML"),
    ],
)
def test_errors_name_line_and_feed(text: str, expected: str) -> None:
    with pytest.raises(RegistryError, match=expected):
        parse_feeds(text, source="f.yaml")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read feeds file"):
        load_feeds(tmp_path / "nope.yaml")
