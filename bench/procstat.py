"""What a benchmark reads about its processes from ``/proc`` (Linux): CPU time and memory.

One place for every bench script that reports CPU seconds per unit of work or resident memory
(``pipeline``, ``poller``, ``soak``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

CLK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    """``/proc/<pid>/stat`` after the command name (state, ppid, …), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 if gone)."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / CLK if fields else 0.0


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of ``root`` and all its live descendants."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    total, stack = 0.0, [root]
    while stack:
        pid = stack.pop()
        total += proc_cpu_s(pid)
        stack.extend(p for p, parent in parents.items() if parent == pid)
    return total


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` and its children (0 if gone)."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total
