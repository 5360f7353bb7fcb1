"""How many intra-op threads a render should use, from how busy the machine is.

Why: PyTorch's OpenMP pool splits each operator statically over its threads and waits at
a barrier, so one thread that shares its core with another process holds all the others
up: with 2 threads on 2 cores and one core kept busy elsewhere, eager renders were 5-15x
slower, while 1 thread only pays for the lost core. So the render path counts the cores
that *other* processes keep busy (the whole machine's busy time from /proc/stat minus
this process's own CPU time, over the interval since the last render) and uses the cores
left, at least one. Where /proc/stat does not exist, the 1-minute load average stands in
for the others' load (it includes our own threads, so it errs towards fewer threads).

$GANEXPLORER_RENDER_THREADS pins the number (tests, benchmarks).
"""
from __future__ import annotations

import os
import threading
import time

THREADS_ENV = "GANEXPLORER_RENDER_THREADS"
MIN_INTERVAL_S = 0.25     # shorter intervals measure jiffies (10 ms) too coarsely


def cpu_count() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _system_busy_s() -> float | None:
    """Seconds of CPU time the whole machine has spent busy since boot (None: unknown)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    vals = [int(v) for v in fields[1:]]
    idle = vals[3] + (vals[4] if len(vals) > 4 else 0)       # idle + iowait
    busy = sum(vals[:8]) - idle                                # guest time is inside user already
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


class ThreadPolicy:
    """`threads()` -> the intra-op thread count for the next render. Thread-safe."""

    def __init__(self, max_threads: int | None = None):
        self.max_threads = max_threads or cpu_count()
        self._lock = threading.Lock()
        self._last: tuple[float, float, float] | None = None   # (wall, system busy, own cpu)
        self._choice = self.max_threads
        self.others_busy = 0.0          # cores other processes kept busy, last measured

    def threads(self) -> int:
        env = os.environ.get(THREADS_ENV)
        if env:
            try:
                return max(1, int(env))
            except ValueError:
                raise ValueError(f"{THREADS_ENV} must be a whole number of threads, got {env!r}") from None
        with self._lock:
            now = time.monotonic()
            busy = _system_busy_s()
            if busy is None:
                try:
                    others = max(0.0, os.getloadavg()[0] - 1.0)   # minus roughly our own render
                except OSError:
                    return self.max_threads
                self._choice = self._from_others(others)
                return self._choice
            own = _own_cpu_s()
            if self._last is None:
                self._last = (now, busy, own)
                return self._choice
            wall = now - self._last[0]
            if wall < MIN_INTERVAL_S:
                return self._choice
            others = max(0.0, (busy - self._last[1]) - (own - self._last[2])) / wall
            self._last = (now, busy, own)
            self.others_busy = others
            self._choice = self._from_others(others)
            return self._choice

    def _from_others(self, others: float) -> int:
        # Cores left for us, rounded: 0.6 of a core taken elsewhere already costs a thread.
        return int(max(1, min(self.max_threads, round(self.max_threads - others))))


POLICY = ThreadPolicy()
