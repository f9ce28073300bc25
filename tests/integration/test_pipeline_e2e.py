"""End to end on a real broker: feed server -> poller -> news.raw -> worker -> news.events.

Feeds are built from the seed and the dev split set in ``../shared`` (read in place): teasers
repeat inside items and across items, and the seed's story arrives again, edited, in a second
feed. A plain aiokafka consumer (not Faust) checks what another team would see.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from bench.corpus import SharedMissing, seed_text, shared_dir, split_rows
from streams import records, topics
from streams.admin import all_public_topics, create_topics
from streams.broker import EmbeddedBroker
from streams.events import validation_errors
from streams.feeds.devserver import DevItem, FeedServer
from streams.text.dedup import Deduplicator
from streams.text.fingerprint import is_duplicate, signature
from streams.text.tag import ENTITY_TAGS, THEME_TAGS
from streams.text.units import units_from_item
from streams.times import now_iso
from tests.integration.conftest import make_broker
from tests.integration.stack import Worker, env_for, poll_once, produce, read_topic

TAGS = [*ENTITY_TAGS, *THEME_TAGS]
BASE = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _shared_or_skip() -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    try:
        seed = seed_text()
        rows = split_rows()
        gold = json.loads((shared_dir() / "eval-dev" / "seed.gold.json").read_text())
    except (SharedMissing, FileNotFoundError) as exc:
        pytest.skip(f"shared evaluation material absent: {exc}")
    return seed, rows, gold


def _quotes_edited(text: str) -> str:
    """The same story as another site prints it: other quotes, one word dropped."""
    edited = text.replace('"', "«", 1).replace('"', "»", 1)
    return edited.replace(" також ", " ", 1)


def build_feeds(seed: str, rows: list[dict[str, Any]]) -> dict[str, tuple[str, list[DevItem]]]:
    lines = seed.split("\n")
    title, body = lines[0], [ln for ln in lines[1:] if ln.strip()]
    texts = [r for r in rows if "text" in r][:5]
    htmls = [r for r in rows if "html" in r][:4]
    stamp = (BASE + timedelta(minutes=i) for i in itertools.count())
    alpha = [DevItem("seed", title, "https://a.example/seed", next(stamp), seed)]
    alpha += [DevItem(r["id"], "", r["url"], next(stamp), r["text"]) for r in texts]
    lead = body[:6]
    copy = "\n".join([title, *(_quotes_edited(p) for p in lead), *body[6:10]])
    beta = [DevItem(r["id"], "", r["url"], next(stamp), r["html"], html=True) for r in htmls]
    beta.append(DevItem("seed-copy", title, "https://b.example/seed", next(stamp), copy))
    return {"alpha": ("rss", alpha), "beta": ("atom", beta)}


def raw_like(feed: str, item: DevItem) -> dict[str, Any]:
    """The raw record the poller makes of a DevItem (for the offline expectation)."""
    return {
        "item_id": records.make_item_id(feed, item.guid),
        "feed": feed,
        "url": item.link,
        "title": item.title or None,
        "published": item.published.isoformat().replace("+00:00", "Z"),
        "fetched_at": now_iso(),
        "content": item.content,
        "content_type": "text/html" if item.html else "text/plain",
    }


def expected_units(feeds: dict[str, tuple[str, list[DevItem]]]) -> list[Any]:
    """First-seen units by the offline core (the same functions the agents call)."""
    dedup = Deduplicator(window_s=86400.0)
    out = []
    for feed, (_, items) in feeds.items():
        for item in items:
            for unit in units_from_item(raw_like(feed, item)):
                if dedup.check(unit.sig, unit.event_id, unit.ts) is None:
                    out.append(unit)
    return out


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    """A broker of this module's own: the news.* topic names are global."""
    b = make_broker(tmp_path_factory.mktemp("e2e-kafka"))
    b.start(timeout=120)
    try:
        asyncio.run(
            create_topics(b.bootstrap, all_public_topics(TAGS), partitions=6, replication_factor=1)
        )
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
async def feed_server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


async def _events(bootstrap: str, n: int, timeout: float = 180.0) -> list[dict[str, Any]]:
    recs = await read_topic(
        bootstrap, topics.EVENTS, until=lambda r: len(r) >= n, timeout=timeout, settle=5.0
    )
    return [orjson.loads(r.value) for r in recs]


async def test_feeds_to_events_end_to_end(
    broker: EmbeddedBroker, feed_server: FeedServer, tmp_path: Path
) -> None:
    seed, rows, gold = _shared_or_skip()
    feeds = build_feeds(seed, rows)
    for name, (fmt, items) in feeds.items():
        feed_server.add_feed(name, items, fmt)  # type: ignore[arg-type]
    expected = expected_units(feeds)
    # The seed's edited copy in feed beta arrives later, as on real sites: alpha is polled and
    # processed first (pollers run feeds concurrently, so one poll of both would race).
    alpha_file, beta_file = tmp_path / "alpha.yaml", tmp_path / "beta.yaml"
    for path, names in ((alpha_file, {"alpha"}), (beta_file, {"alpha", "beta"})):
        rows = [{"id": f.id, "url": f.url} for f in feed_server.feeds() if f.id in names]
        path.write_text(yaml.safe_dump({"feeds": rows}, sort_keys=False), encoding="utf-8")
    n_alpha = len(expected_units({"alpha": feeds["alpha"]}))

    env = env_for(broker.bootstrap, tmp_path / "w1", "e2e")
    worker = Worker(env, tmp_path / "w1")
    try:
        polled = await asyncio.to_thread(poll_once, env, alpha_file)
        assert polled.returncode == 0, polled.stderr
        await _events(broker.bootstrap, n_alpha)
        polled = await asyncio.to_thread(poll_once, env, beta_file)
        assert polled.returncode == 0, polled.stderr
        events = await _events(broker.bootstrap, len(expected))
        assert worker.alive(), worker.log_tail()
    finally:
        worker.stop()

    # exactly the expected first-seen events, none twice, all valid
    assert len(events) == len(expected), worker.log_tail()
    assert len({e["event_id"] for e in events}) == len(events)
    for event in events:
        assert validation_errors(event) == [], event
    sigs = [signature(e["text"]) for e in events]
    for i, j in itertools.combinations(range(len(events)), 2):
        assert not is_duplicate(sigs[i], sigs[j]), (events[i]["text"], events[j]["text"])
    by_text = {e["text"] for e in events}
    assert {u.text for u in expected} == by_text

    # the seed: one lead and its 10 unique teasers; its edited copy in feed beta is dropped
    seed_item = records.make_item_id("alpha", "seed")
    from_seed = [e for e in events if e["item_id"] == seed_item]
    assert sum(e["kind"] == "lead" for e in from_seed) == gold["expected_events"]["lead"]
    assert sum(e["kind"] == "teaser" for e in from_seed) == gold["expected_events"]["teaser"]
    copy_item = records.make_item_id("beta", "seed-copy")
    assert not [e for e in events if e["item_id"] == copy_item]
    lead = next(e for e in from_seed if e["kind"] == "lead")
    assert {"nato", "north-korea", "kursk"} <= set(lead["tags"])

    # news.topic.<tag> holds exactly the events with that tag
    for tag_id in {t for e in events for t in e["tags"]}:
        recs = await read_topic(broker.bootstrap, topics.tag_topic(tag_id), timeout=10)
        got = {orjson.loads(r.value)["event_id"] for r in recs}
        assert got == {e["event_id"] for e in events if tag_id in e["tags"]}, tag_id
        assert all(dict(r.headers)["schema-version"] == b"1.0" for r in recs)


async def test_restart_recovers_dedup_table_from_changelog(
    broker: EmbeddedBroker, feed_server: FeedServer, tmp_path: Path
) -> None:
    """A worker on a fresh data dir (no local RocksDB) rebuilds the dedup tables from their
    changelogs: re-polled items emit nothing again; a new item still goes through."""
    _shared_or_skip()  # builds on the end-to-end test's events
    before = await read_topic(broker.bootstrap, topics.EVENTS, timeout=10)
    assert before, "the end-to-end test must run first in this module"
    seen_ids = {orjson.loads(r.value)["event_id"] for r in before}
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feed_server.feeds_yaml(), encoding="utf-8")
    fresh = DevItem(
        "fresh",
        "Нова подія",
        "https://a.example/fresh",
        BASE + timedelta(hours=1),
        "Нова подія\nУ Львові відкрили новий міст через річку Полтву, повідомили у міськраді.",
    )
    feed_server.add_items("alpha", [fresh])

    env = env_for(broker.bootstrap, tmp_path / "w2", "e2e")  # same app id, empty data dir
    worker = Worker(env, tmp_path / "w2")
    try:
        polled = await asyncio.to_thread(poll_once, env, feeds_file)  # a new poller: re-sends all
        assert polled.returncode == 0, polled.stderr
        fresh_id = records.make_item_id("alpha", "fresh")
        recs = await read_topic(
            broker.bootstrap,
            topics.EVENTS,
            until=lambda r: any(orjson.loads(x.value)["item_id"] == fresh_id for x in r),
            timeout=180,
            settle=5.0,
        )
        events = [orjson.loads(r.value) for r in recs]
    finally:
        worker.stop()
    new = [e for e in events if e["event_id"] not in seen_ids]
    repeated = [e for e in events[len(before) :] if e["event_id"] in seen_ids]
    assert not repeated, (
        [(e["kind"], e["item_id"], e["text"][:80]) for e in repeated],
        worker.log_tail(200),
    )
    assert [e["item_id"] for e in new] == [records.make_item_id("alpha", "fresh")], [
        (e["item_id"], e["kind"], e["feed"], e["text"][:300]) for e in new
    ]
    assert len(events) == len(before) + 1


def _dlq_sources(dlq: list[Any]) -> dict[tuple[bytes, bytes], Any]:
    """Dead letters by source (partition, offset): two bad records on different partitions
    can share an offset, so the offset alone under-counts them."""
    return {
        (dict(r.headers)["x-dlq-source-partition"], dict(r.headers)["x-dlq-source-offset"]): r
        for r in dlq
    }


async def test_bad_records_go_to_dead_letter_topic(broker: EmbeddedBroker, tmp_path: Path) -> None:
    env = env_for(broker.bootstrap, tmp_path / "w3", "e2e-dlq")  # own group: no rejoin wait
    worker = Worker(env, tmp_path / "w3")
    good = raw_like(
        "gamma",
        DevItem(
            "good",
            "",
            "https://c.example/good",
            BASE + timedelta(hours=2),
            "In Vilnius, Lithuanian officials opened a new bridge over the Neris on Monday.",
        ),
    )
    try:
        await produce(
            broker.bootstrap,
            topics.RAW,
            [
                (b"k1", b"this is {not json"),
                (b"k2", orjson.dumps({"item_id": "x", "feed": "gamma"})),
                (good["item_id"].encode(), orjson.dumps(good)),
            ],
        )
        dlq = await read_topic(
            broker.bootstrap,
            topics.RAW_DLQ,
            until=lambda r: len(_dlq_sources(r)) >= 2,
            timeout=120,
            settle=2,
        )
        events = await read_topic(
            broker.bootstrap,
            topics.EVENTS,
            until=lambda r: any(orjson.loads(x.value)["item_id"] == good["item_id"] for x in r),
            timeout=120,
        )
        # A record on an internal units topic that is not a unit list (a foreign writer): a
        # dead letter too, and the worker keeps running (it does not exit on it).
        units_topic = topics.units_topic("e2e-dlq", 0)
        await produce(broker.bootstrap, units_topic, [(b"k3", b"[not units")])
        foreign = await read_topic(
            broker.bootstrap,
            topics.RAW_DLQ,
            until=lambda r: any(dict(x.headers)["x-dlq-code"] == b"bad_units" for x in r),
            timeout=120,
        )
        assert worker.alive(), worker.log_tail()
    finally:
        worker.stop()
    bad_units = [r for r in foreign if dict(r.headers)["x-dlq-code"] == b"bad_units"]
    assert bad_units and bad_units[0].value == b"[not units", worker.log_tail()
    assert dict(bad_units[0].headers)["x-dlq-source-topic"] == units_topic.encode()
    assert dict(bad_units[0].headers)["x-dlq-reason"].startswith(b"not a list of units")
    # the DLQ is at-least-once (a restart may repeat a record): count distinct source offsets
    by_source = _dlq_sources(dlq)
    by_code = {dict(r.headers)["x-dlq-code"]: r for r in by_source.values()}
    assert len(by_source) == 2 and set(by_code) == {b"not_json", b"missing_field"}, (
        worker.log_tail()
    )
    assert by_code[b"not_json"].value == b"this is {not json"
    assert by_code[b"missing_field"].value == orjson.dumps({"item_id": "x", "feed": "gamma"})
    assert dict(by_code[b"not_json"].headers)["x-dlq-reason"].startswith(b"not JSON")
    reason = dict(by_code[b"missing_field"].headers)["x-dlq-reason"].decode()
    assert "missing required field" in reason and "content" in reason
    assert any(orjson.loads(r.value)["item_id"] == good["item_id"] for r in events), (
        worker.log_tail()
    )


async def test_list_record_items_and_oversized_units(
    broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """A record may carry a list of items (one poll's new items): each is processed on its own;
    a bad element and an item too large to pass on go to the DLQ alone, with their reasons."""
    env = env_for(
        broker.bootstrap, tmp_path / "w5", "e2e-list", NEWS_MAX_RECORD_BYTES=str(128 * 1024)
    )
    worker = Worker(env, tmp_path / "w5")
    at = BASE + timedelta(hours=3)
    good = [
        raw_like("delta", DevItem(f"g{i}", "", f"https://d.example/{i}", at, text))
        for i, text in enumerate(
            [
                "Harbour authorities in Gdansk reopened the northern terminal after repairs.",
                "A new tram line in Lviv will connect the railway station with Sykhiv district.",
            ]
        )
    ]
    huge = raw_like(
        "delta", DevItem("huge", "", "https://d.example/huge", at, "Long story. " * 9000)
    )
    bad = {"item_id": "y", "feed": "delta"}
    try:
        await produce(
            broker.bootstrap, topics.RAW, [(b"poll-1", orjson.dumps([good[0], bad, huge, good[1]]))]
        )
        dlq = await read_topic(
            broker.bootstrap,
            topics.RAW_DLQ,
            until=lambda r: (
                {dict(x.headers)["x-dlq-code"] for x in r if x.key == b"poll-1"}
                >= {b"missing_field", b"too_large"}
            ),
            timeout=120,
        )
        wanted = {g["item_id"] for g in good}
        events = await read_topic(
            broker.bootstrap,
            topics.EVENTS,
            until=lambda r: wanted <= {orjson.loads(x.value)["item_id"] for x in r},
            timeout=120,
        )
        assert worker.alive(), worker.log_tail()
    finally:
        worker.stop()
    # the module's broker is shared: other tests' dead letters are there too (own key here)
    by_code = {dict(r.headers)["x-dlq-code"]: r for r in dlq if r.key == b"poll-1"}
    assert orjson.loads(by_code[b"missing_field"].value) == bad
    assert orjson.loads(by_code[b"too_large"].value)["item_id"] == huge["item_id"]
    assert dict(by_code[b"too_large"].headers)["x-dlq-reason"].startswith(b"item 2 of the record")
    assert wanted <= {orjson.loads(r.value)["item_id"] for r in events}
    assert huge["item_id"] not in {orjson.loads(r.value)["item_id"] for r in events}


@pytest.mark.prometheus
async def test_real_prometheus_scrapes_poller_and_worker(
    broker: EmbeddedBroker, feed_server: FeedServer, tmp_path: Path
) -> None:
    """The real poller and worker expose their metrics; a real Prometheus scrapes and queries."""
    from tests.integration.conftest import free_ports
    from tests.integration.prometheus import PrometheusServer, find_binary

    if find_binary() is None:
        pytest.skip("prometheus binary not installed (make test installs the Debian package)")
    feed_server.add_feed(
        "metrics",
        [
            DevItem(
                "metrics",
                "",
                "https://b.example/metrics",
                BASE + timedelta(hours=3),
                "<p>Уряд Молдови схвалив нову енергетичну стратегію до 2035 року, повідомила "
                "пресслужба Кабміну в Кишиневі.</p>",
                html=True,
            )
        ],
        "rss",
    )
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(feed_server.feeds_yaml(), encoding="utf-8")
    (metrics_port,) = free_ports(1)
    env = env_for(
        broker.bootstrap, tmp_path / "w4", "e2e-metrics", NEWS_METRICS_PORT=str(metrics_port)
    )
    worker = Worker(env, tmp_path / "w4")
    poller = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "poll", "--feeds", str(feeds_file)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    alerts = Path(__file__).resolve().parents[2] / "dashboards" / "prometheus" / "alerts.yml"
    prom = PrometheusServer(
        {
            "news-poller": [f"127.0.0.1:{metrics_port}"],
            "news-worker": [f"127.0.0.1:{worker.web_port}"],
        },
        rule_files=[alerts],
    )
    try:
        await asyncio.to_thread(prom.start)
        wait = prom.wait_for
        try:
            await asyncio.to_thread(wait, "sum(news_feed_items_total)", lambda r: bool(r), 90)
            events = await asyncio.to_thread(
                wait,
                "sum(news_events_total)",
                lambda r: bool(r) and float(r[0]["value"][1]) >= 1,
                120,
            )
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{prom.log_tail()}\n{worker.log_tail()}") from None
        assert float(events[0]["value"][1]) >= 1
        up = await asyncio.to_thread(prom.query, "up")
        assert {s["metric"]["job"]: s["value"][1] for s in up} == {
            "news-poller": "1",
            "news-worker": "1",
        }
        faust = await asyncio.to_thread(prom.query, 'count({__name__=~"faust_.+"})')
        assert faust and float(faust[0]["value"][1]) > 0, "Faust sensors not under faust_"
        rules = await asyncio.to_thread(prom.rules)
        assert rules and all(r.get("health", "ok") == "ok" for g in rules for r in g["rules"])
    finally:
        await asyncio.to_thread(prom.stop)
        poller.terminate()
        poller.wait(30)
        worker.stop()
