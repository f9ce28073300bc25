"""Feed parsing: feedparser's own 2,107 test feeds (read in place) plus targeted cases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.feeds.devserver import CP1251_RSS, shared_dir
from streams.feeds.parse import ParseError, parse_feed
from streams.records import CONTENT_TYPES, REQUIRED, RawItem, decode, encode, make_item_id

CORPUS = shared_dir() / "corpora" / "feedparser-tests"
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
HEADER = re.compile(rb"^Header:\s*([^:\r\n]+):\s*(.*?)\s*$", re.M)


def check_item(item: RawItem, feed_id: str) -> None:
    for key in REQUIRED:
        assert isinstance(item[key], str) and item[key], key  # type: ignore[literal-required]
    for key in ("url", "title", "published", "guid"):
        value = item[key]  # type: ignore[literal-required]
        assert value is None or (isinstance(value, str) and value), key
    assert item["feed"] == feed_id
    assert item["content_type"] in CONTENT_TYPES
    assert item["published"] is None or ISO_Z.match(item["published"])
    assert len(item["item_id"]) == 24
    assert decode(encode(item)) == item  # what the worker will accept


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".xml", ".json", ".rdf"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared feedparser test corpus absent: {CORPUS}")
def test_feedparser_corpus_only_parse_errors_and_wellformed_items() -> None:
    files = corpus_files()
    assert len(files) >= 2000
    problems: list[str] = []
    parsed = failed = items = 0
    for path in files:
        body = path.read_bytes()
        # The test files declare the HTTP headers they were meant to be served with.
        headers = {k.decode().strip(): v.decode() for k, v in HEADER.findall(body[:2000])}
        try:
            result = parse_feed("corpus", body, headers=headers)
        except ParseError as exc:
            failed += 1
            assert str(exc)
            continue
        except Exception as exc:
            problems.append(f"{path.relative_to(CORPUS)}: {type(exc).__name__}: {exc}")
            continue
        parsed += 1
        for item in result.items:
            try:
                check_item(item, "corpus")
            except AssertionError as exc:
                problems.append(f"{path.relative_to(CORPUS)}: bad item {exc}: {item!r}")
        items += len(result.items)
    assert problems == []
    assert parsed > 1500 and items > 500, (parsed, failed, items)


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared feedparser test corpus absent: {CORPUS}")
@pytest.mark.parametrize(
    ("name", "needle"),
    [("koi8r.xml", "Как пережить"), ("euckr.xml", "한글"), ("shiftjis.xml", "記事投稿")],
)
def test_corpus_undeclared_encodings_are_detected(name: str, needle: str) -> None:
    path = next(CORPUS.rglob(name))
    result = parse_feed("corpus", path.read_bytes())
    assert result.redetected
    assert any(needle in (item["title"] or "") for item in result.items)


def rss(items: str, decl: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return (
        f'{decl}<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>t</title><link>https://example.org/</link>{items}</channel></rss>"
    ).encode()


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>a</title><id>urn:a</id>
<updated>2026-01-02T03:04:05Z</updated>
<entry><title>Both</title><id>urn:1</id><link href="https://example.org/1"/>
<updated>2026-01-02T03:04:05+02:00</updated>
<summary>short summary</summary>
<content type="html">&lt;p&gt;Full &lt;b&gt;text&lt;/b&gt;&lt;/p&gt;</content></entry>
<entry><title>Summary only</title><id>urn:2</id><updated>2026-01-02T03:04:05Z</updated>
<summary type="text">Just a plain summary &lt;not a tag&gt;</summary></entry>
<entry><title>Nothing</title><id>urn:3</id><updated>2026-01-02T03:04:05Z</updated></entry>
</feed>"""


def test_windows_1251_without_declaration_decodes_to_cyrillic() -> None:
    body = CP1251_RSS.encode("cp1251")
    result = parse_feed("ru", body, headers={"Content-Type": "application/rss+xml"})
    assert result.redetected
    assert result.bozo_reason is None
    titles = [item["title"] for item in result.items]
    assert titles == [
        "В Харькове восстановили движение трамваев",
        "Синоптики обещают тёплую погоду на выходных",
    ]
    assert "Стоимость проезда" in result.items[0]["content"]


def test_declared_encoding_is_trusted() -> None:
    body = CP1251_RSS.replace("<rss", '<?xml version="1.0" encoding="windows-1251"?><rss', 1)
    result = parse_feed("ru", body.encode("cp1251"))
    assert not result.redetected
    assert result.items[0]["title"] == "В Харькове восстановили движение трамваев"


def test_utf8_is_not_redetected() -> None:
    result = parse_feed("uk", CP1251_RSS.encode("utf-8"))
    assert not result.redetected
    assert result.items[1]["title"] == "Синоптики обещают тёплую погоду на выходных"


def test_rss_prefers_content_encoded_over_description() -> None:
    body = rss(
        "<item><title>T</title><link>https://example.org/a</link><guid>g-1</guid>"
        "<pubDate>Fri, 02 Jan 2026 03:04:05 +0200</pubDate>"
        "<description>teaser only</description>"
        "<content:encoded><![CDATA[<p>Full <em>story</em></p>]]></content:encoded></item>"
        "<item><title>Plain</title><link>https://example.org/b</link>"
        "<description>Line one.\nLine two.</description></item>"
        "<item><title>Escaped html</title><link>https://example.org/c</link>"
        "<description>&lt;p&gt;para&lt;/p&gt;</description></item>"
    )
    result = parse_feed("f", body, fetched_at="2026-01-02T00:00:00Z")
    first, plain, escaped = result.items
    assert first["content"] == "<p>Full <em>story</em></p>"
    assert first["content_type"] == "text/html"
    assert first["published"] == "2026-01-02T01:04:05Z"
    assert first["guid"] == "g-1"
    assert first["item_id"] == make_item_id("f", "g-1")
    assert first["fetched_at"] == "2026-01-02T00:00:00Z"
    assert plain["content"] == "Line one.\nLine two."
    assert plain["content_type"] == "text/plain"
    assert escaped["content"] == "<p>para</p>"
    assert escaped["content_type"] == "text/html"
    for item in result.items:
        check_item(item, "f")


def test_atom_content_over_summary_and_skip_empty() -> None:
    result = parse_feed("a", ATOM)
    assert [item["title"] for item in result.items] == ["Both", "Summary only"]
    both, summary = result.items
    assert both["content"] == "<p>Full <b>text</b></p>"
    assert both["content_type"] == "text/html"
    assert both["published"] == "2026-01-02T01:04:05Z"
    assert both["url"] == "https://example.org/1"
    assert summary["content"] == "Just a plain summary <not a tag>"
    assert summary["content_type"] == "text/plain"
    assert result.skipped == 1


def test_missing_guid_gives_stable_id_from_link() -> None:
    body = rss(
        "<item><title>T</title><link>https://example.org/x</link><description>d</description></item>"
    )
    one = parse_feed("f", body).items[0]
    two = parse_feed("f", body).items[0]
    other_feed = parse_feed("g", body).items[0]
    assert one["guid"] is None
    assert one["item_id"] == two["item_id"] == make_item_id("f", "https://example.org/x")
    assert other_feed["item_id"] != one["item_id"]


def test_no_guid_no_link_uses_title_and_date() -> None:
    body = rss(
        "<item><title>T</title><pubDate>Fri, 02 Jan 2026 03:04:05 GMT</pubDate>"
        "<description>d</description></item>"
    )
    item = parse_feed("f", body).items[0]
    assert item["url"] is None
    assert item["item_id"] == make_item_id("f", "T\x1f2026-01-02T03:04:05Z")


def test_non_url_guid_is_not_used_as_url() -> None:
    item = parse_feed("f", rss("<item><guid>42</guid><description>d</description></item>")).items[0]
    assert item["guid"] == "42"
    assert item["url"] is None


def test_relative_links_resolve_against_final_url() -> None:
    body = rss("<item><link>/news/1</link><description>d</description></item>", decl="")
    item = parse_feed(
        "f",
        body,
        headers={"Content-Type": "application/rss+xml"},
        url="https://news.example.org/rss",
    ).items[0]
    assert item["url"] == "https://news.example.org/news/1"


def test_bozo_feed_with_entries_still_yields_them() -> None:
    body = rss("<item><title>ok</title><guid>1</guid><description>fine x</description></item>")
    body = body.replace(b"</channel></rss>", b"<item><title>broken")
    result = parse_feed("f", body)
    assert result.bozo_reason
    assert [item["title"] for item in result.items] == ["ok"]


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>B</title><item><titl',
        b"<!doctype html><html><body><p>Not a feed</p></body></html>",
        b'{"not": "a feed"}',
        b"",
        b"\x00\x01\x02garbage",
    ],
)
def test_not_a_feed_raises_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_feed("f", body)


def test_valid_empty_feed_is_no_error() -> None:
    result = parse_feed("f", rss(""))
    assert result.items == [] and result.skipped == 0


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_only_raise_parse_error(body: bytes) -> None:
    try:
        result = parse_feed("f", body)
    except ParseError:
        return
    for item in result.items:
        check_item(item, "f")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(ATOM)))
def test_truncated_feeds_only_raise_parse_error(cut: int) -> None:
    try:
        result = parse_feed("a", ATOM[:cut])
    except ParseError:
        return
    for item in result.items:
        check_item(item, "a")
