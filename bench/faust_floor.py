"""Faust's own consume floor: an agent that only takes batches and sends one record per batch.

The pipeline cannot consume raw items faster than Faust hands them to an agent, so issue 7 sets
its target against this, measured in the same run as the pipeline (``bench/pipeline.py`` starts
this as a subprocess: ``python -m bench.faust_floor``). Each output record's value is the number
of items in the batch, so the reader knows when every item went through.

Environment: NEWS_BOOTSTRAP_SERVERS, NEWS_APP_ID, NEWS_WEB_PORT, NEWS_DATA_DIR, FLOOR_IN, FLOOR_OUT.
"""

from __future__ import annotations

import os
from typing import Any

import faust


def build() -> faust.App:
    app = faust.App(
        os.environ.get("NEWS_APP_ID", "bench-floor"),
        broker=f"kafka://{os.environ['NEWS_BOOTSTRAP_SERVERS']}",
        store="memory://",
        datadir=os.environ.get("NEWS_DATA_DIR", "var") + "/faust-floor",
        web_port=int(os.environ.get("NEWS_WEB_PORT", "6067")),
        web_host="127.0.0.1",
        consumer_auto_offset_reset="earliest",
        producer_linger_ms=5,
        producer_max_batch_size=1_048_576,
    )
    src = app.topic(os.environ["FLOOR_IN"], key_serializer="raw", value_serializer="raw")
    dst = app.topic(os.environ["FLOOR_OUT"], key_serializer="raw", value_serializer="raw")

    @app.agent(src)
    async def floor(stream: Any) -> None:
        async for batch in stream.take(500, within=0.05):
            await dst.send(value=str(len(batch)).encode())

    return app


if __name__ == "__main__":
    from faust.worker import Worker

    Worker(build(), loglevel="warning", quiet=True).execute_from_commandline()
