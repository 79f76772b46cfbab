"""What a run grades: one ``Job`` per (student, unit). Plain data: no torch, no pytest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.units import Unit

__all__ = ["Job"]


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
