"""Fetcher and Poller against the real local FeedServer on 127.0.0.1 (no Kafka needed)."""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from streams import topics
from streams.feeds.devserver import DevItem, FeedServer
from streams.feeds.fetch import (
    FetchDNSError,
    Fetcher,
    FetchHTTPStatus,
    FetchRefused,
    FetchTimeout,
    FetchTooLarge,
    FetchTooManyRedirects,
    is_public_address,
)
from streams.feeds.parse import ParseError, parse_feed
from streams.feeds.poller import Poller, run_poller
from streams.feeds.registry import Feed
from streams.records import decode
from streams.settings import Settings

SETTINGS = Settings(allow_private_hosts=True, fetch_timeout_s=5.0, poll_interval_s=60.0)
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def make_items(prefix: str, n: int, *, html: bool = False, start: int = 0) -> list[DevItem]:
    return [
        DevItem(
            guid=f"{prefix}-{i}",
            title=f"{prefix} headline {i}",
            link=f"https://dev.invalid/{prefix}/{i}",
            published=T0 + timedelta(minutes=i),
            content=f"<p>{prefix} story {i}</p>" if html else f"{prefix} story {i}\nmore",
            html=html,
        )
        for i in range(start, start + n)
    ]


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[FeedServer]:
    srv = FeedServer()
    await srv.start()
    srv.add_feed("rss", make_items("rss", 3, html=True), fmt="rss")
    srv.add_feed("atom", make_items("atom", 2), fmt="atom")
    yield srv
    await srv.stop()


@pytest_asyncio.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(SETTINGS) as f:
        yield f


def uid(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- fetch -------------------------------------------------------------------------------


async def test_fetch_then_conditional_get_304(server: FeedServer, fetcher: Fetcher) -> None:
    first = await fetcher.fetch(server.feed_url("rss"))
    assert first.status == 200 and not first.not_modified
    assert first.etag and first.last_modified
    assert first.content_type and first.content_type.startswith("application/rss+xml")
    assert first.headers.get("content-encoding") == "gzip"  # decoded transparently
    assert b"<rss" in first.body
    assert len(parse_feed("rss", first.body, headers=first.headers).items) == 3

    again = await fetcher.fetch(server.feed_url("rss"), first.validators)
    assert again.status == 304 and again.not_modified and again.body == b""

    by_date = replace(first.validators, etag=None)
    assert (await fetcher.fetch(server.feed_url("rss"), by_date)).not_modified


async def test_user_agent_and_accept_are_sent(server: FeedServer) -> None:
    settings = replace(SETTINGS, user_agent="news-streams-test/1.0")
    async with Fetcher(settings) as f:
        result = await f.fetch(server.url("test/headers"))
    sent = orjson.loads(result.body)
    assert sent["User-Agent"] == "news-streams-test/1.0"
    assert "application/rss+xml" in sent["Accept"]
    assert "gzip" in sent["Accept-Encoding"]


async def test_timeout_is_quick_and_total(server: FeedServer) -> None:
    settings = replace(SETTINGS, fetch_timeout_s=0.5)
    async with Fetcher(settings) as f:
        for path in ("test/slow?delay=30", "test/drip?every=0.1"):
            started = time.monotonic()
            with pytest.raises(FetchTimeout) as info:
                await f.fetch(server.url(path))
            assert time.monotonic() - started < 2.0
            assert info.value.reason == "timeout"


async def test_50mb_body_is_refused_without_reading_it_all(
    server: FeedServer, fetcher: Fetcher
) -> None:
    limit = SETTINGS.fetch_max_bytes
    tracemalloc.start()
    try:
        with pytest.raises(FetchTooLarge, match=f"exceeds limit {limit} bytes"):
            await fetcher.fetch(server.url("test/huge"))  # chunked: no Content-Length
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit < 50 * 1024 * 1024

    started = time.monotonic()
    with pytest.raises(FetchTooLarge, match="Content-Length 52428800 > limit"):
        await fetcher.fetch(server.url("test/huge?length=1"))
    assert time.monotonic() - started < 1.0


async def test_gzip_bomb_is_capped_on_decoded_size(server: FeedServer, fetcher: Fetcher) -> None:
    limit = SETTINGS.fetch_max_bytes
    tracemalloc.start()
    try:
        with pytest.raises(FetchTooLarge, match="exceeds limit"):
            await fetcher.fetch(server.url("test/gzip-bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * limit


async def test_deflate_is_decoded(server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.feed_url("atom") + "?coding=deflate")
    assert result.headers.get("content-encoding") == "deflate"
    assert len(parse_feed("atom", result.body).items) == 2


async def test_http_errors_carry_status_and_retry_after(
    server: FeedServer, fetcher: Fetcher
) -> None:
    with pytest.raises(FetchHTTPStatus) as info:
        await fetcher.fetch(server.url("test/status/500"))
    assert info.value.status == 500 and info.value.retry_after_s is None

    with pytest.raises(FetchHTTPStatus) as info:
        await fetcher.fetch(server.url("test/status/429?retry_after=120"))
    assert info.value.status == 429 and info.value.retry_after_s == 120

    with pytest.raises(FetchHTTPStatus) as info:
        await fetcher.fetch(server.url("test/status/404"))
    assert info.value.status == 404


async def test_redirects_are_followed_and_limited(server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.url("test/redirect/3?to=/feeds/atom"))
    assert result.status == 200 and result.url == server.feed_url("atom")
    with pytest.raises(FetchTooManyRedirects):
        await fetcher.fetch(server.url("test/redirect/9?to=/feeds/atom"))


async def test_malformed_and_non_xml_bodies_are_parse_errors(
    server: FeedServer, fetcher: Fetcher
) -> None:
    for path in ("test/malformed", "test/not-xml"):
        result = await fetcher.fetch(server.url(path))
        with pytest.raises(ParseError):
            parse_feed("bad", result.body, headers=result.headers, url=result.url)


async def test_undeclared_windows_1251_over_http(server: FeedServer, fetcher: Fetcher) -> None:
    result = await fetcher.fetch(server.url("test/cp1251"))
    parsed = parse_feed("cp", result.body, headers=result.headers, url=result.url)
    assert parsed.items[0]["title"] == "В Харькове восстановили движение трамваев"


async def test_ssrf_guard_refuses_private_targets(server: FeedServer) -> None:
    before = dict(server.requests)
    strict = replace(SETTINGS, allow_private_hosts=False)
    async with Fetcher(strict) as f:
        for url in (
            server.feed_url("rss"),
            server.feed_url("rss").replace("127.0.0.1", "localhost"),
            "http://[::1]/feed",
            "http://10.1.2.3/feed",
            "http://169.254.169.254/latest/meta-data/",
            "http://192.168.0.1/",
        ):
            with pytest.raises(FetchRefused, match="non-public address"):
                await f.fetch(url)
        with pytest.raises(FetchRefused, match="only absolute http"):
            await f.fetch("file:///etc/passwd")
    assert server.requests == before  # nothing reached the server


def test_public_address_classification() -> None:
    from ipaddress import ip_address

    assert is_public_address(ip_address("93.184.216.34"))
    assert is_public_address(ip_address("2606:4700::1111"))
    for private in ("127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.1.1",
                    "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1",
                    "224.0.0.1"):  # fmt: skip
        assert not is_public_address(ip_address(private)), private


async def test_dns_failure_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    """Resolution is faked (no traffic leaves the machine): the guard resolves first."""
    loop = asyncio.get_running_loop()

    async def no_such_host(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(loop, "getaddrinfo", no_such_host)
    async with Fetcher(replace(SETTINGS, allow_private_hosts=False)) as f:
        with pytest.raises(FetchDNSError, match="cannot resolve"):
            await f.fetch("https://no-such-host.invalid/rss")


# --- poller ------------------------------------------------------------------------------


class Collector:
    """An in-memory ``send``: what the poller would have produced to Kafka."""

    def __init__(self) -> None:
        self.records: list[tuple[str, bytes, bytes]] = []
        self.fail = False

    async def __call__(self, topic: str, key: bytes, value: bytes) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.records.append((topic, key, value))

    def take(self) -> list[tuple[str, bytes, bytes]]:
        out, self.records = self.records, []
        return out


async def test_poll_once_produces_items_once_and_survives_bad_feeds(server: FeedServer) -> None:
    good_a, good_b = uid("good-a"), uid("good-b")
    server.add_feed(good_a, make_items(good_a, 3, html=True), fmt="rss")
    server.add_feed(good_b, make_items(good_b, 2), fmt="atom")
    bad, broken, slow = uid("bad"), uid("err500"), uid("slow")
    feeds = [
        Feed(good_a, server.feed_url(good_a)),
        Feed(bad, server.url("test/malformed")),
        Feed(broken, server.url("test/status/500")),
        Feed(slow, server.url("test/slow?delay=30")),
        Feed(good_b, server.feed_url(good_b)),
        Feed(uid("off"), server.feed_url(good_a), enabled=False),
    ]
    send = Collector()
    settings = replace(SETTINGS, fetch_timeout_s=1.0)
    async with Poller(settings, feeds, send) as poller:
        assert len(poller.states) == 5  # disabled feed not polled
        outcomes = {o.feed: o for o in await poller.poll_once()}
        assert outcomes[good_a].outcome == "ok" and outcomes[good_a].new == 3
        assert outcomes[good_b].outcome == "ok" and outcomes[good_b].new == 2
        assert outcomes[bad].outcome == "parse"
        assert outcomes[broken].outcome == "http_status"
        assert outcomes[slow].outcome == "timeout"

        records = send.take()
        assert len(records) == 5
        by_feed: dict[str, list[str]] = {}
        for topic, key, value in records:
            assert topic == topics.RAW
            item = decode(value)
            assert key == item["item_id"].encode()
            by_feed.setdefault(item["feed"], []).append(item["title"] or "")
            assert item["fetched_at"].endswith("Z") and item["published"]
            assert item["guid"] and item["url"]
        assert sorted(by_feed[good_a]) == [f"{good_a} headline {i}" for i in range(3)]
        html_item = next(decode(v) for _, _, v in records if decode(v)["feed"] == good_a)
        assert html_item["content_type"] == "text/html"
        text_item = next(decode(v) for _, _, v in records if decode(v)["feed"] == good_b)
        assert text_item["content_type"] == "text/plain"

        # Second poll: conditional GET → 304, nothing resent.
        outcomes = {o.feed: o for o in await poller.poll_once()}
        assert outcomes[good_a].outcome == "not_modified"
        assert send.take() == []

        # A new item and an edited one: only those two are sent, the rest is remembered.
        server.add_items(good_a, make_items(good_a, 1, html=True, start=3))
        edited = replace(make_items(good_b, 1)[0], content="edited text")
        server.add_feed(good_b, [edited, *make_items(good_b, 1, start=1)], fmt="atom")
        outcomes = {o.feed: o for o in await poller.poll_once()}
        assert (outcomes[good_a].new, outcomes[good_a].seen) == (1, 3)
        assert (outcomes[good_b].new, outcomes[good_b].seen) == (1, 1)
        sent = [decode(v) for _, _, v in send.take()]
        assert sorted(i["title"] or "" for i in sent) == [
            f"{good_a} headline 3",
            f"{good_b} headline 0",
        ]

        assert poller.states[bad].errors == 3
        assert poller.states[good_a].errors == 0
        assert poller.states[bad].next_at > poller.states[good_a].next_at

    labels = {"feed": good_a}
    assert sample("news_feed_fetches_total", {**labels, "outcome": "ok"}) == 2
    assert sample("news_feed_fetches_total", {**labels, "outcome": "not_modified"}) == 1
    assert sample("news_feed_items_total", labels) == 4
    assert sample("news_feed_consecutive_errors", labels) == 0
    assert sample("news_feed_last_success_timestamp_seconds", labels) > time.time() - 60
    assert sample("news_feed_fetches_total", {"feed": bad, "outcome": "parse"}) == 3
    assert sample("news_feed_consecutive_errors", {"feed": bad}) == 3
    assert sample("news_feed_fetches_total", {"feed": slow, "outcome": "timeout"}) == 3


async def test_failed_send_commits_nothing(server: FeedServer) -> None:
    name = uid("sendfail")
    server.add_feed(name, make_items(name, 2), fmt="rss")
    send = Collector()
    async with Poller(SETTINGS, [Feed(name, server.feed_url(name))], send) as poller:
        send.fail = True
        (outcome,) = await poller.poll_once()
        assert outcome.outcome == "send" and "broker down" in (outcome.error or "")
        send.fail = False
        (outcome,) = await poller.poll_once()  # no 304: validators were not remembered
        assert outcome.outcome == "ok" and outcome.new == 2
    assert len(send.take()) == 2
    assert sample("news_feed_fetches_total", {"feed": name, "outcome": "send"}) == 1


async def test_run_polls_on_schedule_until_cancelled(server: FeedServer) -> None:
    name = uid("live")
    server.add_feed(name, make_items(name, 1), fmt="atom")
    send = Collector()
    feeds = [Feed(name, server.feed_url(name), interval_s=0.1)]
    async with Poller(SETTINGS, feeds, send) as poller:
        task = asyncio.create_task(poller.run())
        try:
            await _until(lambda: len(send.records) == 1)
            server.add_items(name, make_items(name, 2, start=1))
            await _until(lambda: len(send.records) == 3)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    titles = [orjson.loads(v)["title"] for _, _, v in send.records]
    assert titles[0] == f"{name} headline 0"
    assert sorted(titles[1:]) == [f"{name} headline 1", f"{name} headline 2"]
    assert server.requests[f"/feeds/{name}"] >= 2


async def test_trickle_mode_reveals_items_over_time() -> None:
    async with FeedServer(trickle_s=0.2, trickle_initial=1) as srv:
        srv.add_feed("t", make_items("t", 4))
        send = Collector()
        async with Poller(SETTINGS, srv.feeds(), send) as poller:
            (first,) = await poller.poll_once()
            assert first.new == 1
            await asyncio.sleep(0.45)
            (second,) = await poller.poll_once()
            assert second.new >= 2


async def test_run_poller_wires_producer_and_metrics(
    server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run_poller`` with aiokafka's producer replaced by a fake (no broker needed)."""
    import aiokafka
    import httpx

    import streams.kafka

    producers: list[FakeProducer] = []

    class FakeProducer:
        def __init__(self, **kwargs: object) -> None:
            self.kwargs = kwargs
            self.sent: list[tuple[str, bytes | None, bytes | None]] = []
            self.stopped = False
            producers.append(self)

        async def start(self) -> None:
            pass

        async def stop(self) -> None:
            self.stopped = True

        async def send_and_wait(
            self, topic: str, value: bytes | None = None, key: bytes | None = None
        ) -> None:
            self.sent.append((topic, key, value))

    async def no_broker_check(settings: object, timeout: float | None = None) -> None:
        pass  # the real preflight connects to Kafka; here there is none

    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", FakeProducer)
    monkeypatch.setattr(streams.kafka, "check_connection", no_broker_check)
    name = uid("wired")
    server.add_feed(name, make_items(name, 2), fmt="rss")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = replace(SETTINGS, metrics_port=port)
    task = asyncio.create_task(
        run_poller(settings, [Feed(name, server.feed_url(name))], metrics_addr="127.0.0.1")
    )
    try:
        await _until(lambda: bool(producers) and len(producers[0].sent) == 2)
        async with httpx.AsyncClient(trust_env=False) as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
            ready = await client.get(f"http://127.0.0.1:{port}/readyz")
        assert f'news_feed_items_total{{feed="{name}"}} 2.0' in text
        assert ready.status_code == 200, ready.text
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    (producer,) = producers
    assert producer.stopped
    assert producer.kwargs == {
        "bootstrap_servers": SETTINGS.bootstrap_servers,
        "security_protocol": "PLAINTEXT",
        "acks": "all",
        "linger_ms": 5,
        "enable_idempotence": True,
    }
    topic, key, value = producer.sent[0]
    assert topic == topics.RAW and key == decode(value)["item_id"].encode()


async def _until(condition: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
