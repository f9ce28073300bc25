"""Pool processes never outlive the process that started them (``streams.procpool``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time


def test_pool_processes_die_with_a_killed_parent() -> None:
    """``kill -9`` of a worker or poller must not leave its pool processes running (orphans)."""
    code = textwrap.dedent(
        """
        import os, sys, time
        from streams.procpool import spawn_pool
        pool = spawn_pool(2)
        pool.submit(len, ()).result(timeout=60)
        pids = [p.pid for p in pool._processes.values()]
        print(" ".join(map(str, pids)), flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    for pid in pids:
        os.kill(pid, 0)  # alive while the worker is
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in pids if _alive(pid)]
        time.sleep(0.1)
    assert not alive, f"pool processes outlived their parent: {alive}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped by init) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[-1][:1] != "Z"
    except FileNotFoundError:
        return False
