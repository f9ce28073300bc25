"""One poller process for the scale-out test: ``python -m tests.integration.poller_proc JSON``.

JSON: ``{"settings": {<Settings fields>}, "topics": {"raw": .., "feeds": .., "state": ..}}``.
The same code path as ``news-streams poll`` (``run_group``) with test topic names.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys

from streams.feeds.group import FeedTopics, run_group
from streams.settings import Settings


def main() -> None:
    config = json.loads(sys.argv[1])
    settings = Settings(**config["settings"])
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {settings.user_agent} %(name)s: %(message)s"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_group(settings, names=FeedTopics(**config["topics"])))


if __name__ == "__main__":
    main()
