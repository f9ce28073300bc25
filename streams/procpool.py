"""Process pools whose processes never outlive the process that started them.

Pure-Python CPU work (feed parsing, the text core) runs in spawned processes so that it neither
holds the event loop's GIL nor is limited to one core. A ``ProcessPoolExecutor`` process blocks
on its call queue forever once its parent is gone: a poller or worker killed with ``kill -9``
(or OOM) would leave its pool behind, one set of orphans per crash. Here every pool process:

* asks the kernel to kill it when its parent dies (Linux ``PR_SET_PDEATHSIG``), and
* watches its parent pid in a daemon thread (the portable fallback, and the case where the
  parent died before the request was made);
* ignores SIGINT/SIGTERM: Ctrl-C reaches the whole process group, and the parent decides how
  to stop (it shuts the pool down).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def spawn_pool(processes: int, warm: Callable[[], object] | None = None) -> ProcessPoolExecutor:
    """A pool of ``processes`` spawned processes, all started (and ``warm``-ed) right away.

    ``warm`` (a module-level function) runs once in each process before its first task: load
    models, compile patterns, so that the first real task does not pay for them.
    """
    pool = ProcessPoolExecutor(
        max_workers=processes,
        mp_context=get_context("spawn"),
        initializer=_init,
        initargs=(os.getpid(), warm),
    )
    for _ in range(processes):  # processes start on demand: one per task submitted while busy
        pool.submit(len, ())
    return pool


def _init(parent: int, warm: Callable[[], object] | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()
    if warm is not None:
        warm()
