"""What a run grades: one ``Job`` per (student, unit). Plain data: no torch, no pytest."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from autograder.units import Unit

__all__ = ["Job", "chunk_jobs", "units_of"]


@dataclass(frozen=True)
class Job:
    """One student's file for one unit; ``source`` is None when it is missing."""

    student: str
    unit: Unit
    source: Path | None
    problem: str = ""
    submitted: float | None = None  # when it was handed in (epoch seconds), if known
    origin: Path | None = None  # the file handed in, when ``source`` is the grader's private copy of it
    notes: tuple[str, ...] = ()  # what intake left out of the file (a notebook's magics, say)
    notebook: bool = False  # ``source`` was made from a notebook: its skipped cells are read back


def units_of(jobs: list[Job]) -> list[Unit]:
    """The units ``jobs`` are of, each once, in the order they first come."""
    return list({j.unit.name: j.unit for j in jobs}.values())


def chunk_jobs(jobs: list[Job], workers: int, most: int = 16, least: int = 2) -> list[list[Job]]:
    """``jobs`` in chunks of whole students for ``workers``, largest first.

    Each chunk takes two shares of the students still left per worker, at
    least ``least`` and at most ``most`` (a killed run loses one chunk at
    most). So the chunks shrink towards the end, and a slow submission there
    keeps one worker busy alone for a small chunk, not a large one. Jobs
    keep their order within a chunk.
    """
    students = sorted({j.student for j in jobs})
    out: list[list[Job]] = []
    start = 0
    while start < len(students):
        size = max(least, min(most, math.ceil((len(students) - start) / (2 * workers))))
        group = set(students[start : start + size])
        out.append([j for j in jobs if j.student in group])
        start += size
    return out
