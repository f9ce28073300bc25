"""The Poller against a fault-injecting feed server on 127.0.0.1 (state committed in memory).

Kafka-backed durability, restarts and scale-out are in ``test_poller_kafka.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from streams.feeds.devserver import FeedServer
from streams.feeds.poller import Poller, PollOutcome, Tracked
from streams.feeds.registry import Feed
from streams.feeds.state import ACTIVE, DISABLED, FAILING, FeedState
from streams.records import RawItem
from streams.settings import Settings
from tests.integration.feedproc import serve_in_process
from tests.integration.test_fetch import make_items, uid

SETTINGS = Settings(
    allow_private_hosts=True, fetch_timeout_s=5.0, poll_interval_s=60.0, parse_processes=2
)


class Store:
    """An in-memory ``commit``: items and state together, as the Kafka transaction does."""

    def __init__(self) -> None:
        self.items: list[RawItem] = []
        self.states: dict[str, FeedState] = {}

    async def __call__(self, feed_id: str, state: FeedState, items: list[RawItem]) -> None:
        self.items.extend(items)
        self.states[feed_id] = state


def sample(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as srv:
        yield srv


async def test_permanent_redirect_updates_the_stored_url(server: FeedServer) -> None:
    moved, temporary = uid("moved"), uid("temp")
    server.add_feed(moved, make_items(moved, 2))
    server.add_feed(temporary, make_items(temporary, 2))
    feeds = [
        Feed(moved, server.url(f"test/moved/301/{moved}")),
        Feed(temporary, server.url(f"test/moved/302/{temporary}")),
        Feed(uid("m308"), server.url(f"test/moved/308/{moved}")),
        Feed(uid("t307"), server.url(f"test/moved/307/{temporary}")),
    ]
    store = Store()
    before = sample("news_feed_url_updates_total")
    async with Poller(SETTINGS, feeds, commit=store) as poller:
        outcomes = await poller.poll_once()
        assert [o.outcome for o in outcomes] == ["ok"] * 4
        assert poller.states[moved].state.url == server.feed_url(moved)
        assert poller.states[feeds[2].id].state.url == server.feed_url(moved)
        assert poller.states[temporary].state.url is None
        assert poller.states[feeds[3].id].state.url is None
        assert store.states[moved].url == server.feed_url(moved)  # committed, so durable
        redirects = server.requests.get(f"/test/moved/301/{moved}", 0)
        (await poller.poll(poller.states[moved]))
        # The second poll went straight to the new URL (and got a 304 there).
        assert server.requests.get(f"/test/moved/301/{moved}", 0) == redirects
        assert poller.states[moved].state.last_outcome == "not_modified"
        await poller.poll(poller.states[temporary])
        assert server.requests[f"/test/moved/302/{temporary}"] == 2
    assert sample("news_feed_url_updates_total") - before == 2
    # A new registry URL discards the stored one.
    async with Poller(SETTINGS, commit=store) as poller:
        poller.upsert(Feed(moved, server.feed_url(temporary)), store.states[moved])
        assert poller.states[moved].state.url is None


async def test_410_disables_and_resume_token_reenables(server: FeedServer) -> None:
    gone = uid("gone")
    store = Store()
    disabled = sample("news_feed_states", {"state": DISABLED})
    async with Poller(SETTINGS, [Feed(gone, server.url("test/status/410"))], commit=store) as p:
        (outcome,) = await p.poll_once()
        assert outcome.outcome == "gone" and outcome.code == 410
        assert outcome.status == DISABLED and store.states[gone].status == DISABLED
        assert sample("news_feed_states", {"state": DISABLED}) == disabled + 1
        assert await p.poll_once() == []  # a disabled feed is not polled
        assert sample("news_feed_http_responses_total", {"status_class": "4xx", "code": "410"})
        p.upsert(Feed(gone, server.url("test/status/410"), token="resume-1"))
        assert p.states[gone].state.status == ACTIVE and p.states[gone].state.errors == 0
        assert sample("news_feed_states", {"state": DISABLED}) == disabled
        (outcome,) = await p.poll_once()
        assert outcome.status == DISABLED  # still gone


async def test_failing_after_n_errors_polls_at_max_interval_until_recovery(
    server: FeedServer,
) -> None:
    name = uid("flaky")
    server.add_feed(name, make_items(name, 1))
    settings = replace(SETTINGS, poll_failing_after=3, poll_max_interval_s=7200.0)
    feed = Feed(name, server.url("test/status/500"), interval_s=10.0)
    store = Store()
    async with Poller(settings, [feed], commit=store) as p:
        for _ in range(3):
            (o,) = await p.poll_once()
        assert o.status == FAILING and store.states[name].status == FAILING
        assert 7200 * 0.74 < o.next_in_s < 7200 * 1.26
        p.upsert(Feed(name, server.feed_url(name), interval_s=10.0))
        (o,) = await p.poll_once()
        assert o.outcome == "ok" and o.status == ACTIVE and o.new == 1
        assert o.next_in_s < 11


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("test/billion-laughs", "entity declarations"),
        ("test/undefined-entity", "undefined entity &lol9;"),
        ("test/not-xml", "feed"),
        ("test/empty", ""),
    ],
)
async def test_not_a_wellformed_feed_is_an_error_and_produces_nothing(
    server: FeedServer, path: str, reason: str
) -> None:
    name = uid("bad")
    store = Store()
    async with Poller(SETTINGS, [Feed(name, server.url(path))], commit=store) as p:
        (o,) = await p.poll_once()
    assert o.outcome == "parse" and reason in (o.error or "")
    assert store.items == [] and store.states[name].errors == 1
    assert store.states[name].last_error == o.error


async def test_cache_control_and_ttl_are_floors(server: FeedServer) -> None:
    name = uid("cached")
    server.add_feed(name, make_items(name, 1))
    feed = Feed(name, server.feed_url(name) + "?max_age=900", interval_s=30.0)
    async with Poller(SETTINGS, [feed], commit=Store()) as p:
        (o,) = await p.poll_once()
    assert o.outcome == "ok" and o.next_in_s >= 900


async def test_huge_feed_items_are_produced_once(server: FeedServer) -> None:
    """10,000 items: all remembered (the old fixed 5,000 re-sent half of them every poll)."""
    name = uid("huge")
    server.add_feed(name, make_items(name, 10_000))
    store = Store()
    async with Poller(SETTINGS, [Feed(name, server.feed_url(name))], commit=store) as p:
        (o,) = await p.poll_once()
        assert o.new == 10_000
        server.add_items(name, make_items(name, 1, start=10_000))  # new ETag: full re-parse
        (o,) = await p.poll_once()
        assert (o.new, o.seen) == (1, 10_000)
        assert len(p.states[name].state.seen) == 10_001
    ids = [item["item_id"] for item in store.items]
    assert len(ids) == len(set(ids)) == 10_001


async def test_seen_cap_is_counted(server: FeedServer) -> None:
    name = uid("capped")
    server.add_feed(name, make_items(name, 700))
    before = sample("news_feed_seen_cap_hits_total")
    settings = replace(SETTINGS, feed_seen_max=600)
    async with Poller(settings, [Feed(name, server.feed_url(name))], commit=Store()) as p:
        await p.poll_once()
        assert len(p.states[name].state.seen) == 600
    assert sample("news_feed_seen_cap_hits_total") - before == 1


async def test_healthy_feeds_keep_their_schedule_while_a_9mb_feed_is_parsed() -> None:
    """The feed server runs in its own process, so only the poller's loop is measured."""
    ctx = multiprocessing.get_context("spawn")
    with serve_in_process(ctx, healthy=6) as base:
        interval = 1.0
        feeds = [Feed(f"ok-{i}", f"{base}/feeds/ok-{i}", interval_s=interval) for i in range(6)]
        feeds.append(Feed("big", f"{base}/test/big?items=9500", interval_s=interval))
        store = Store()
        async with Poller(SETTINGS, feeds, commit=store) as p:
            starts: dict[str, list[float]] = {}
            real_poll = p.poll

            async def timed(t: Tracked) -> PollOutcome:
                started = time.monotonic()
                starts.setdefault(t.feed.id, []).append(started)
                try:
                    return await real_poll(t)
                finally:
                    if t.feed.id == "big":
                        busy.append(time.monotonic() - started)

            busy: list[float] = []
            p.poll = timed  # type: ignore[method-assign]
            task = asyncio.create_task(p.run())
            try:
                await asyncio.sleep(9.0)
                if p.states["big"].busy:  # still parsing: count the time so far
                    busy.append(time.monotonic() - starts["big"][-1])
            finally:
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
        # The healthy feeds were measured while the 9 MB feed was being fetched and parsed
        # (how long that takes depends on the machine; it never ran on the event loop).
        assert starts["big"] and sum(busy) >= 1.5, busy
        if p.states["big"].state.last_outcome == "ok":
            assert sum(1 for i in store.items if i["feed"] == "big") == 9500
        for i in range(6):
            times = starts[f"ok-{i}"]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert len(times) >= 6, times
            # interval + 5 % jitter + the fetch itself; no multi-second stalls
            assert max(gaps) < interval * 1.05 + 0.35, gaps


async def test_full_text_fetches_articles_politely_and_honours_robots(
    server: FeedServer,
) -> None:
    from streams.feeds.devserver import DevItem
    from streams.feeds.fetch import Fetcher
    from streams.feeds.fulltext import FullText

    name = uid("summaries")
    slugs = [f"{name}-{i}" for i in range(3)]
    items = [
        DevItem(f"{s}-guid", f"Title {s}", server.url(f"articles/{s}"), make_items(name, 1)[0]
                .published, f"Short summary of {s}.")
        for s in slugs
    ]  # fmt: skip
    private = DevItem("p-guid", "Private", server.url("articles/private/1"),
                      items[0].published, "Short private summary.")  # fmt: skip
    long_one = DevItem("l-guid", "Long", server.url(f"articles/{name}-long"),
                       items[0].published, "A long enough text. " * 40)  # fmt: skip
    server.add_feed(name, [*items, private, long_one])
    settings = replace(
        SETTINGS, full_text_host_concurrency=1, full_text_host_delay_s=0.2, full_text="auto"
    )
    store = Store()
    async with Fetcher(settings) as fetcher:
        fulltext = FullText(settings, fetcher)
        feed = Feed(name, server.feed_url(name))
        async with Poller(settings, [feed], commit=store, enrich=fulltext.enrich) as p:
            (o,) = await p.poll_once()
    assert o.new == 5
    by_title = {i["title"]: i for i in store.items}
    for s in slugs:
        assert by_title[f"Title {s}"]["content_type"] == "text/html"
        assert f"The full text of article {s}" in by_title[f"Title {s}"]["content"]
    assert by_title["Private"]["content"] == "Short private summary."  # robots.txt: disallowed
    assert by_title["Long"]["content"].startswith("A long enough text.")  # not a summary
    assert server.requests.get(f"/articles/{name}-long", 0) == 0
    assert server.requests.get("/articles/private/1", 0) == 0
    times = sorted(t for t, path, _ in server.log if path.startswith(f"/articles/{name}-"))
    assert len(times) == 3
    assert all(b - a >= 0.19 for a, b in itertools.pairwise(times)), times


async def test_same_body_without_validators_is_not_parsed_again(server: FeedServer) -> None:
    name = uid("novalidators")
    store = Store()
    async with Poller(SETTINGS, [Feed(name, server.url("test/cp1251"))], commit=store) as p:
        (first,) = await p.poll_once()
        (second,) = await p.poll_once()
    assert (first.outcome, first.new) == ("ok", 2)
    assert (second.outcome, second.new, second.seen) == ("unchanged", 0, 0)
    assert len(store.items) == 2
