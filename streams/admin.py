"""Topic administration with aiokafka's ``AIOKafkaAdminClient``.

We create every public topic explicitly (the broker runs with ``auto.create.topics.enable=false``);
Faust declares its own changelog and repartition topics through the same admin API.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import for_code

from streams import topics
from streams.settings import Settings

Target = str | Settings
"""Where to connect: a bootstrap string (PLAINTEXT, tests) or settings (with their security)."""

TOPIC_ALREADY_EXISTS = 36
"""Kafka error code ``TOPIC_ALREADY_EXISTS``: not an error for an idempotent create."""


def all_public_topics(tag_ids: Iterable[str]) -> list[str]:
    """``news.raw``, ``news.raw.dlq``, ``news.events`` and ``news.topic.<tag>`` per tag id.

    The tag ids come from the taxonomy (``streams.text.tag``); duplicates are dropped and the
    per-tag topics are sorted so the list is stable.
    """
    tags = sorted(set(tag_ids))
    return [topics.RAW, topics.RAW_DLQ, topics.EVENTS, *(topics.tag_topic(t) for t in tags)]


def _options(target: Target) -> dict[str, Any]:
    if isinstance(target, Settings):
        from streams.kafka import client_kwargs

        return client_kwargs(target)
    return {"bootstrap_servers": target}


def _where(target: Target) -> str:
    return target.bootstrap_servers if isinstance(target, Settings) else target


async def _admin(bootstrap: Target, timeout: float) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(
        request_timeout_ms=max(1000, int(timeout * 1000)), **_options(bootstrap)
    )
    try:
        await asyncio.wait_for(admin.start(), timeout)
    except BaseException:
        await admin.close()
        raise
    return admin


async def describe_cluster(bootstrap: Target, *, timeout: float = 10) -> dict[str, Any]:
    """Cluster metadata (``brokers``, ``controller_id``, ``cluster_id``) from one request."""
    admin = await _admin(bootstrap, timeout)
    try:
        return await asyncio.wait_for(admin.describe_cluster(), timeout)
    finally:
        await admin.close()


async def wait_for_broker(bootstrap: Target, timeout: float = 60) -> None:
    """Return once ``bootstrap`` answers a Metadata request listing at least one broker.

    With settings, a refusal (bad credentials, untrusted certificate) raises
    :class:`streams.kafka.KafkaAuthError` at once instead of retrying until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    if isinstance(bootstrap, Settings):
        from streams.kafka import KafkaUnreachableError, check_connection

        with contextlib.suppress(KafkaUnreachableError):  # not up yet: keep waiting below
            await check_connection(bootstrap, timeout=min(timeout, 5.0))
    while time.monotonic() < deadline:
        try:
            info = await describe_cluster(bootstrap, timeout=min(5.0, timeout))
            if info.get("brokers"):
                return
        except Exception as exc:
            last = exc
        await asyncio.sleep(0.2)
    raise TimeoutError(
        f"no Kafka broker answered at {_where(bootstrap)} within {timeout}s: {last!r}"
    )


async def list_topics(bootstrap: Target) -> set[str]:
    """Names of every topic in the cluster (internal ones such as ``__consumer_offsets`` too)."""
    admin = await _admin(bootstrap, 30)
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def create_topics(
    bootstrap: Target,
    names: Iterable[str],
    *,
    partitions: int,
    replication_factor: int,
    configs: dict[str, str] | None = None,
    timeout: float = 30,
) -> list[str]:
    """Create the topics that do not exist yet; return the names actually created.

    Idempotent: topics that already exist are left as they are (their partition count and
    configs are not changed). Returns only once every created topic has a leader for each
    partition, so producers can write to it immediately.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    admin = await _admin(bootstrap, timeout)
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in wanted if n not in existing]
        if not missing:
            return []
        new = [
            NewTopic(
                name=n,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs=dict(configs or {}),
            )
            for n in missing
        ]
        response = await admin.create_topics(new, timeout_ms=int(timeout * 1000))
        created: list[str] = []
        for error in response.topic_errors:
            name, code = error[0], error[1]
            message = error[2] if len(error) > 2 else None
            if code == 0:
                created.append(name)
            elif code != TOPIC_ALREADY_EXISTS:  # lost a race with another creator: fine
                raise for_code(code)(f"creating topic {name!r}: {message}")
        await _wait_for_leaders(admin, created, timeout)
        return created
    finally:
        await admin.close()


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(names)
    while pending:
        described = await admin.describe_topics(sorted(pending))
        for topic in described:
            parts = topic.get("partitions") or []
            if topic.get("error_code") == 0 and parts and all(p["leader"] >= 0 for p in parts):
                pending.discard(topic["topic"])
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"topics without a leader after {timeout}s: {sorted(pending)}")
        await asyncio.sleep(0.1)
