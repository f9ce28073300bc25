"""Dead-letter handling: a record we cannot process is kept, with why, and the stream goes on."""

from __future__ import annotations

import logging
from typing import Any

from streams.metrics import DLQ_RECORDS
from streams.pipeline.output import Record
from streams.topics import RAW_DLQ

log = logging.getLogger(__name__)

REASON_HEADER = "x-dlq-reason"
CODE_HEADER = "x-dlq-code"


def headers_for(msg: Any, reason: str, code: str) -> list[tuple[str, bytes]]:
    """Reason plus the record's origin, so an operator can find and replay it."""
    return [
        (REASON_HEADER, reason.encode("utf-8", "replace")[:1000]),
        (CODE_HEADER, code.encode()),
        ("x-dlq-source-topic", str(msg.topic).encode()),
        ("x-dlq-source-partition", str(msg.partition).encode()),
        ("x-dlq-source-offset", str(msg.offset).encode()),
    ]


def dlq_record(msg: Any, reason: str, code: str, value: bytes | None = None) -> Record:
    """The original key and bytes for the dead-letter topic, with the reason in headers.

    Written with the batch's other outputs, before the batch's input offsets are committed:
    a dead letter is never lost (it may repeat after a crash).
    """
    log.warning("dead-letter %s[%s]@%s: %s", msg.topic, msg.partition, msg.offset, reason[:300])
    DLQ_RECORDS.labels(code).inc()
    value = msg.value if value is None else value
    return Record(RAW_DLQ, value, key=msg.key, headers=headers_for(msg, reason, code))
