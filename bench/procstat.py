"""CPU time and memory of a server process, read from /proc (Linux).

`python server.py serve` runs Sanic's worker manager, which serves from a child process (and
keeps a multiprocessing manager and resource tracker): CPU is summed over the whole process
tree, and the peak RSS is the serving worker's (the largest), with the tree's total beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """`pid` and its living descendants."""
    found = [pid]
    for parent in found:
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                found += [int(c) for c in task.read_text().split()]
            except OSError:  # the task ended meanwhile
                continue
    return found


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return (utime + stime + cutime + cstime) / _TICKS


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree (and its reaped children)."""
    return sum(_cpu(p) for p in tree(pid))


def _hwm_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int) -> tuple[float, float]:
    """(the largest process's peak RSS, the sum of the tree's peaks) in MB."""
    peaks = [_hwm_mb(p) for p in tree(pid)]
    return max(peaks, default=0.0), sum(peaks)
