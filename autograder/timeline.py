"""Where a run's time goes: an opt-in record of its phases, for the benchmarks.

With ``TORCHGRADE_TIMELINE=FILE`` set, every trusted process of a run (the
command, its workers) appends lines of JSON to FILE: a ``span`` for each
phase (``{"pid", "name", "start", "end"}``, wall-clock seconds, so that
processes and the benchmark that started them share one clock) and, when
the process ends, a ``total`` per kind of request (``{"pid", "name",
"seconds", "count"}``): thousands of requests are summed, not listed.
Unset (the default), each call returns at once and nothing is written.
"""

from __future__ import annotations

import atexit
import json
import os
import time
from collections import defaultdict

__all__ = ["enabled", "span", "mark", "add", "flush", "read"]

_FILE = os.environ.get("TORCHGRADE_TIMELINE") or None
_TOTALS: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])


def enabled() -> bool:
    return _FILE is not None


def _write(record: dict) -> None:
    # One short write per line with O_APPEND: lines of concurrent processes do not interleave.
    line = (json.dumps(record) + "\n").encode()
    fd = os.open(_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


class span:
    """``with span("phase"):`` records the phase's start and end."""

    __slots__ = ("name", "start")

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> "span":
        self.start = time.time()
        return self

    def __exit__(self, *exc: object) -> None:
        if _FILE is not None:
            _write({"pid": os.getpid(), "name": self.name, "start": self.start, "end": time.time()})


def mark(name: str, at: float | None = None) -> None:
    """A moment (``at``, default now) as a span of no length."""
    if _FILE is not None:
        moment = time.time() if at is None else at
        _write({"pid": os.getpid(), "name": name, "start": moment, "end": moment})


def add(name: str, seconds: float) -> None:
    """Count one request of kind ``name`` that took ``seconds``."""
    if _FILE is not None:
        total = _TOTALS[name]
        total[0] += seconds
        total[1] += 1


def flush() -> None:
    """Write this process's totals and start counting afresh (a worker flushes after each session)."""
    if _FILE is None:
        return
    pid = os.getpid()
    for name, (seconds, count) in list(_TOTALS.items()):
        _write({"pid": pid, "name": name, "seconds": seconds, "count": count})
    _TOTALS.clear()


def read(path: str | os.PathLike) -> list[dict]:
    """The records a run wrote to ``path``."""
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


if _FILE is not None:
    atexit.register(flush)
