"""Durable feed state, registry records and the schedule's new rules (pure, no I/O)."""

from __future__ import annotations

import pytest

from streams.feeds.registry import REMOVED, Feed, RegistryError, decode_feed, encode_feed
from streams.feeds.schedule import WEEK_S, adaptive_interval, server_floor
from streams.feeds.state import MIN_SEEN, FeedState, SeenItems, seen_capacity
from streams.records import make_item_id


def test_seen_items_round_trip_and_lru_order() -> None:
    ids = [make_item_id("f", str(i)) for i in range(1000)]
    seen = SeenItems()
    seen.remember(((i, n) for n, i in enumerate(ids)), capacity=600)
    assert len(seen) == 600
    assert ids[0] not in seen and ids[-1] in seen  # the oldest went first
    restored = SeenItems.unpack(seen.pack())
    assert len(restored) == 600
    assert not restored.is_new(ids[-1], 999) and restored.is_new(ids[-1], 1)  # content changed
    assert restored.is_new(ids[0], 0)
    # Items listed again move to the recent end and survive the next trim.
    restored.remember([(ids[400], 400)], capacity=600)
    restored.remember(((make_item_id("g", str(i)), i) for i in range(599)), capacity=600)
    assert ids[400] in restored and ids[401] not in restored


def test_seen_capacity_follows_the_feed_within_the_cap() -> None:
    assert seen_capacity(10, 25_000) == MIN_SEEN
    assert seen_capacity(9_545, 25_000) == 19_090
    assert seen_capacity(20_000, 25_000) == 25_000


def test_feed_state_json_round_trip() -> None:
    seen = SeenItems([(make_item_id("f", "a"), 7)])
    state = FeedState(
        "f", url="https://b/", origin_url="https://a/", etag='"x"', errors=2, status="failing",
        last_error="boom", arrivals=[(1.0, 3)], seen=seen, reset_token="t",
    )  # fmt: skip
    back = FeedState.from_json(state.to_json())
    assert back.durable_view() == state.durable_view()
    assert back.arrivals == [(1.0, 3)] and len(back.seen) == 1 and back.last_error == "boom"


def test_ten_thousand_item_state_fits_a_kafka_record() -> None:
    seen = SeenItems((make_item_id("f", str(i)), i) for i in range(10_000))
    assert len(FeedState("f", seen=seen).to_json()) < 300_000


def test_registry_records_round_trip() -> None:
    feed = Feed("a", "https://x.org/rss", 60.0, False, "auto", "adaptive", "tok")
    assert decode_feed("a", encode_feed(feed)) == feed
    assert decode_feed("a", REMOVED) is None
    assert decode_feed("a", None) is None
    with pytest.raises(RegistryError, match="full_text"):
        decode_feed("a", b'{"id": "a", "url": "https://x.org/", "full_text": "maybe"}')
    with pytest.raises(RegistryError, match="not JSON"):
        decode_feed("a", b"{")


def test_adaptive_interval_from_item_rate() -> None:
    now = 10 * WEEK_S
    assert adaptive_interval([], now, 60, 86_400) == 86_400  # nothing new: the maximum
    week_of_hourly = [(now - h * 3600.0, 1) for h in range(168)]
    assert adaptive_interval(week_of_hourly, now, 60, 86_400) == pytest.approx(3600)
    assert adaptive_interval([(now, 100_000)], now, 60, 86_400) == 60  # bounded below
    old = [(now - 2 * WEEK_S, 1000)]
    assert adaptive_interval(old, now, 60, 86_400) == 86_400  # only the last week counts


def test_server_floor_takes_the_largest_hint() -> None:
    now = 1_700_000_000.0
    assert server_floor({}, None, now) == 0
    assert server_floor({}, 1800.0, now) == 1800
    assert server_floor({"cache-control": "public, max-age=600"}, 300.0, now) == 600
    assert server_floor({"retry-after": "7200"}, None, now) == 7200
    expires = "Tue, 14 Nov 2023 22:30:00 GMT"  # now + 1000 s
    assert server_floor({"expires": expires}, None, now) == pytest.approx(1000)
    assert server_floor({"cache-control": "max-age=10", "expires": expires}, None, now) == 10
    assert server_floor({"cache-control": "max-age=99999999"}, None, now) == 24 * 3600


def test_oversized_items_are_truncated_to_fit_a_record() -> None:
    from streams.feeds.group import fit
    from streams.records import RawItem, decode

    item: RawItem = {
        "item_id": make_item_id("f", "big"), "feed": "f", "url": None, "title": "t",
        "published": None, "fetched_at": "2026-01-01T00:00:00Z", "content": "ж" * 600_000,
        "content_type": "text/plain", "guid": None,
    }  # fmt: skip
    data = fit(item, limit=900_000)
    assert len(data) <= 900_000
    back = decode(data)
    assert back["content"] and set(back["content"]) == {"ж"}
    small = {**item, "content": "short"}
    assert decode(fit(small)) == small  # type: ignore[arg-type]
