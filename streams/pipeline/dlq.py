"""Dead-letter handling: a record we cannot process is kept, with why, and the stream goes on."""

from __future__ import annotations

import logging
from typing import Any

from streams.metrics import DLQ_RECORDS

log = logging.getLogger(__name__)

REASON_HEADER = "x-dlq-reason"
CODE_HEADER = "x-dlq-code"


def headers_for(event: Any, reason: str, code: str) -> list[tuple[str, bytes]]:
    """Reason plus the record's origin, so an operator can find and replay it."""
    msg = event.message
    return [
        (REASON_HEADER, reason.encode("utf-8", "replace")[:1000]),
        (CODE_HEADER, code.encode()),
        ("x-dlq-source-topic", str(msg.topic).encode()),
        ("x-dlq-source-partition", str(msg.partition).encode()),
        ("x-dlq-source-offset", str(msg.offset).encode()),
    ]


async def dead_letter(topic: Any, event: Any, reason: str, code: str) -> None:
    """Copy the original key and bytes to the dead-letter topic with the reason in headers."""
    msg = event.message
    log.warning("dead-letter %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, reason[:300])
    DLQ_RECORDS.labels(code).inc()
    await topic.send(key=event.key, value=event.value, headers=headers_for(event, reason, code))
