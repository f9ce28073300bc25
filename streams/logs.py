"""Quiet logs under outage: a run of identical client-library messages becomes one line per period.

During a broker outage aiokafka and Faust log every reconnect attempt ("Unable connect to node"
x1,862 in 34 s was measured). The first message of a kind goes through at once, repeats of the
same template from the same logger are counted and summarised at most once per ``period``
seconds; our own loggers (``streams.*``) log state changes themselves and are never filtered.
"""

from __future__ import annotations

import logging
import time

__all__ = ["RepeatFilter", "install", "install_task_dump"]

NOISY = ("aiokafka", "faust", "mode", "kafka")


class RepeatFilter(logging.Filter):
    """Drop repeats of a message template (per logger) within ``period`` seconds, counting them."""

    def __init__(self, period: float = 30.0) -> None:
        super().__init__()
        self.period = period
        self._seen: dict[tuple[str, str], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(NOISY):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        state = self._seen.get(key)
        if state is None or now - state[0] >= self.period:
            if state is not None and state[1]:
                note = f" [and {int(state[1])} more like it in {now - state[0]:.0f} s]"
                record.msg = str(record.msg) + note.replace("%", "%%")
            self._seen[key] = [now, 0.0]
            if len(self._seen) > 10_000:  # templates are few; guard against unbounded keys
                self._seen.clear()
            return True
        state[1] += 1
        return False


def install(period: float = 30.0) -> RepeatFilter:
    """Attach one :class:`RepeatFilter` to every handler of the root logger (idempotent)."""
    root = logging.getLogger()
    for handler in root.handlers:
        for f in handler.filters:
            if isinstance(f, RepeatFilter):
                return f
    flt = RepeatFilter(period)
    for handler in root.handlers:
        handler.addFilter(flt)
    return flt


def install_task_dump() -> None:
    """``kill -USR1 <pid>`` logs every asyncio task's stack: what a stuck worker waits on."""
    import asyncio
    import io
    import signal

    loop = asyncio.get_running_loop()

    def dump() -> None:
        out = io.StringIO()
        for task in asyncio.all_tasks(loop):
            task.print_stack(limit=12, file=out)
        logging.getLogger(__name__).warning("asyncio tasks:\n%s", out.getvalue())

    loop.add_signal_handler(signal.SIGUSR1, dump)
