"""One place that turns settings into Kafka client options (aiokafka and Faust).

Every client the project creates (poller producer, worker, admin, live view, bench) takes its
connection options from here, so a security setting added once reaches all of them.
"""

from __future__ import annotations

from typing import Any

from streams.settings import Settings

__all__ = ["client_kwargs"]


def client_kwargs(settings: Settings) -> dict[str, Any]:
    """Connection options common to aiokafka producers, consumers and admin clients."""
    return {"bootstrap_servers": settings.bootstrap_servers}
