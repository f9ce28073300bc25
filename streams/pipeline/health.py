"""Worker health on the Faust web server: ``/healthz``, ``/readyz`` and consumer lag.

``/readyz`` is 200 only when the worker can process records right now: it has joined the
consumer group, no rebalance is under way, no dedup state is being restored from its state
topic and its producer is started. While a stage partition's state is restored (after a
restart or a rebalance that moved the partition here) it answers 503 with
``"state_restored": false``, so Kubernetes and compose do not count the worker as serving (and a
rolling update waits for it).

``/healthz`` only says the process and its event loop answer (restart it if not).

Call :func:`register` once after building the app (``streams.service_cli.cmd_worker`` does);
the agents report restores with ``RESTORES.track(stage, partition)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from streams.metrics import CONSUMER_LAG


class Restores:
    """Stage partitions whose state is being restored right now (one worker per process)."""

    def __init__(self) -> None:
        self.active: set[tuple[int, int]] = set()

    @contextlib.contextmanager
    def track(self, stage: int, partition: int) -> Iterator[None]:
        key = (stage, partition)
        self.active.add(key)
        try:
            yield
        finally:
            self.active.discard(key)


RESTORES = Restores()


def readiness(app: Any) -> dict[str, Any]:
    """The checks behind ``/readyz`` (also used by tests)."""
    recovery = app.tables.recovery
    checks = {
        # aiokafka's generation is -1 until the coordinator assigned us partitions.
        "group_joined": (app.consumer_generation_id or 0) > 0,
        # Faust keeps ``rebalancing`` set until the recovery that follows a rebalance is done;
        # our own dedup state is restored by the agents (RESTORES).
        "state_restored": recovery.completed.is_set()
        and not app.in_recovery
        and not app.rebalancing
        and not RESTORES.active,
        "producer_connected": bool(app.producer.started) and not app.producer.should_stop,
    }
    return {"ready": all(checks.values()), "checks": checks}


def update_lag(app: Any) -> None:
    """Set ``news_consumer_lag{topic,partition}`` for every partition assigned here."""
    consumer = app.consumer
    committed = app.monitor.tp_committed_offsets or {}
    # Changelog partitions are read for recovery, never committed: their "lag" means nothing.
    changelogs = set(app.tables.changelog_topics)
    assigned = {tp for tp in consumer.assignment() if tp.topic not in changelogs}
    for tp in assigned:
        end = consumer.highwater(tp)
        if end is None:
            continue
        done = committed.get(tp)
        lag = end if done is None else max(0, end - done)
        CONSUMER_LAG.labels(tp.topic, str(tp.partition)).set(lag)
    for labels in list(_labelsets()):
        topic, partition = labels
        if not any(tp.topic == topic and str(tp.partition) == partition for tp in assigned):
            CONSUMER_LAG.remove(topic, partition)


def _labelsets() -> list[tuple[str, str]]:
    return [tuple(k) for k in CONSUMER_LAG._metrics]  # type: ignore[misc]


def register(app: Any, lag_interval_s: float = 5.0) -> None:
    """Add ``/healthz``, ``/readyz`` and the lag timer to a Faust app."""
    from faust import web

    @app.page("/healthz")
    async def healthz(view: web.View, request: web.Request) -> web.Response:
        return view.json({"alive": True})

    @app.page("/readyz")
    async def readyz(view: web.View, request: web.Request) -> web.Response:
        body = readiness(app)
        return view.json(body, status=200 if body["ready"] else 503)

    @app.timer(lag_interval_s)
    async def consumer_lag() -> None:
        if not app.rebalancing:
            update_lag(app)
