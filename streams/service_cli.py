"""Service subcommands of ``news-streams``: broker, topics, poll, worker, run, serve-feeds.

Kept apart from the offline commands so that ``split``/``tag``/``process`` never import Kafka.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from streams import settings as settings_mod


def _settings(args: argparse.Namespace, **extra: Any) -> settings_mod.Settings:
    overrides: dict[str, Any] = dict(extra)
    if getattr(args, "bootstrap", None):
        overrides["bootstrap_servers"] = args.bootstrap
    if getattr(args, "feeds", None):
        overrides["feeds_file"] = Path(args.feeds)
    return settings_mod.load(**overrides)


def tag_ids() -> list[str]:
    from streams.text.tag import ENTITY_TAGS, THEME_TAGS

    return [*ENTITY_TAGS, *THEME_TAGS]


def cmd_broker(args: argparse.Namespace) -> int:
    from streams.broker import main as broker_main

    return broker_main([args.action] + (["--timeout", str(args.timeout)] if args.timeout else []))


async def create_all_topics(s: settings_mod.Settings) -> list[str]:
    from streams.admin import all_public_topics, create_topics, wait_for_broker
    from streams.pipeline.app import topic_configs

    await wait_for_broker(s, timeout=60)
    return await create_topics(
        s,
        all_public_topics(tag_ids()),
        partitions=s.partitions,
        replication_factor=s.replication_factor,
        configs=topic_configs(s),
    )


def cmd_topics(args: argparse.Namespace) -> int:
    s = _settings(args, partitions=args.partitions)
    created = asyncio.run(create_all_topics(s))
    print(f"created {len(created)} topic(s)" + (": " + ", ".join(created) if created else ""))
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from streams.feeds.group import run_group
    from streams.feeds.registry import RegistryError, load_feeds

    s = _settings(args)
    _logging(s)
    feeds: list[Any] = []
    if args.feeds or s.feeds_file.exists():
        try:
            feeds = load_feeds(s.feeds_file)
        except RegistryError as exc:
            print(f"news-streams poll: {exc} (set NEWS_FEEDS_FILE or --feeds)", file=sys.stderr)
            return 2
    outcomes = asyncio.run(run_group(s, feeds, once=args.once))
    return 1 if any(not o.ok for o in outcomes) else 0


def cmd_feeds(args: argparse.Namespace) -> int:
    import json

    from streams.feeds import commands

    if args.action != "list" and not args.target:
        what = "a URL" if args.action == "add" else "a feed id"
        print(f"news-streams feeds {args.action}: needs {what}", file=sys.stderr)
        return 2
    s = _settings(args)
    try:
        if args.action == "add":
            feed = asyncio.run(
                commands.add(
                    s,
                    args.target,
                    feed_id=args.id,
                    interval_s=args.interval,
                    full_text="always" if args.full_text else None,
                    schedule=args.schedule,
                )
            )
            print(f"added {feed.id} {feed.url}")
        elif args.action == "remove":
            asyncio.run(commands.remove(s, args.target))
            print(f"removed {args.target}")
        elif args.action == "pause":
            asyncio.run(commands.pause(s, args.target))
            print(f"paused {args.target}")
        elif args.action == "resume":
            asyncio.run(commands.resume(s, args.target))
            print(f"resumed {args.target}")
        else:
            rows = asyncio.run(commands.rows(s))
            if args.json:
                for row in rows:
                    print(json.dumps(row, ensure_ascii=False))
            else:
                print(commands.table(rows))
    except commands.CommandError as exc:
        print(f"news-streams feeds {args.action}: {exc}", file=sys.stderr)
        return 2
    return 0


def _logging(s: settings_mod.Settings) -> None:
    import logging

    logging.basicConfig(
        level=s.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from streams.logs import install

    install()


def cmd_worker(args: argparse.Namespace) -> int:
    from faust.sensors.prometheus import setup_prometheus_sensors
    from faust.worker import Worker

    from streams.pipeline import health
    from streams.pipeline.agents import register
    from streams.pipeline.app import build
    from streams.text.tag import tag

    s = _settings(args)
    (s.data_dir / "faust").mkdir(parents=True, exist_ok=True)
    if s.core_processes == 0:  # the core runs in this process (else its pool warms itself)
        tag("warm up: the taxonomy automaton is built once, before the first record")
    asyncio.run(_create_internal_topics(s))
    pipeline = build(s, tag_ids())
    register(pipeline)
    health.register(pipeline.app)  # /healthz, /readyz, news_consumer_lag
    setup_prometheus_sensors(pipeline.app, name_prefix="faust")  # stable across NEWS_APP_ID
    worker = Worker(pipeline.app, loglevel=s.log_level.lower(), quiet=True)
    worker.execute_from_commandline()
    return 0  # pragma: no cover  (execute_from_commandline exits)


async def _create_internal_topics(s: settings_mod.Settings) -> None:
    from streams.admin import create_topics, wait_for_broker
    from streams.pipeline.app import internal_topics

    await wait_for_broker(s, timeout=60)
    for name, configs in internal_topics(s).items():
        await create_topics(
            s,
            [name],
            partitions=s.partitions,
            replication_factor=s.replication_factor,
            configs=configs or None,
        )


def cmd_run(args: argparse.Namespace) -> int:
    from streams.run import run

    return run(args)


def cmd_serve_feeds(args: argparse.Namespace) -> int:
    from streams.feeds.devserver import main as devserver_main

    devserver_main(["--port", str(args.port)])
    return 0


def add_commands(sub: Any) -> None:
    p = sub.add_parser("broker", help="embedded single-node Kafka (KRaft): start|stop|status|fetch")
    p.add_argument("action", choices=["start", "stop", "status", "fetch"])
    p.add_argument("--timeout", type=float, default=None, help="seconds (start: 60, stop: 30)")
    p.set_defaults(func=cmd_broker)

    p = sub.add_parser("topics", help="create the public topics (idempotent)")
    p.add_argument("action", choices=["create"])
    p.add_argument("--bootstrap", help="override NEWS_BOOTSTRAP_SERVERS")
    p.add_argument("--partitions", type=int, default=None, help="override NEWS_PARTITIONS")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("poll", help="poll the feeds and produce raw items to news.raw")
    p.add_argument("--feeds", help="feeds YAML file (default NEWS_FEEDS_FILE)")
    p.add_argument("--bootstrap", help="override NEWS_BOOTSTRAP_SERVERS")
    p.add_argument("--once", action="store_true", help="poll every feed once, then exit")
    p.set_defaults(func=cmd_poll)

    p = sub.add_parser("feeds", help="the live feed registry: add|remove|pause|resume|list")
    p.add_argument("action", choices=["add", "remove", "pause", "resume", "list"])
    p.add_argument("target", nargs="?", help="URL (add) or feed id (remove, pause, resume)")
    p.add_argument("--id", help="add: feed id (default: derived from the URL)")
    p.add_argument("--interval", type=float, default=None, help="add: seconds between polls")
    p.add_argument("--full-text", action="store_true", help="add: fetch each item's article")
    p.add_argument("--schedule", choices=["fixed", "adaptive"], help="add: schedule kind")
    p.add_argument("--json", action="store_true", help="list: JSON lines instead of a table")
    p.add_argument("--bootstrap", help="override NEWS_BOOTSTRAP_SERVERS")
    p.set_defaults(func=cmd_feeds)

    p = sub.add_parser("worker", help="run a Faust worker (split, dedup, tag, emit)")
    p.add_argument("--bootstrap", help="override NEWS_BOOTSTRAP_SERVERS")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("run", help="everything on this machine, with a live view (Ctrl-C stops)")
    p.add_argument("--feeds", help="real feeds YAML (default: local sample feeds on 127.0.0.1)")
    p.add_argument("--duration", type=float, default=0, help="stop after N seconds (0 = never)")
    p.add_argument("--no-broker", action="store_true", help="use NEWS_BOOTSTRAP_SERVERS as is")
    p.add_argument("--plain", action="store_true", help="summary blocks, not a live screen")
    p.add_argument(
        "--interval", type=float, default=5.0, help="seconds between plain summaries (default 5)"
    )
    p.add_argument(
        "--fresh",
        action="store_true",
        help="wipe the demo's kept state first (broker data and dedup state in NEWS_DATA_DIR)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("serve-feeds", help="serve the sample feeds on 127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.set_defaults(func=cmd_serve_feeds)
