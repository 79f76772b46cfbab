"""Late work: a deadline, per-student extensions, and the penalty rule.

A submission's time is nbgrader's ``timestamp.txt`` where there is one, else
its file's modification time (an LMS zip keeps the upload times). Each
started day past the student's deadline costs ``per_day`` of the unit's
score, up to ``max_penalty``. The rule is written into grades.json and shown
in the report, with each late unit's days, penalty and score before it.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LatePolicy", "LateError", "parse_time", "load_extensions"]


class LateError(Exception):
    pass


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time; without a zone it is taken as UTC."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise LateError(f"{text!r} is not a date and time: write it as 2026-11-30T23:59 (ISO 8601, UTC unless +hh:mm)") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def load_extensions(path: Path) -> dict[str, dt.datetime]:
    """A CSV of ``student,deadline`` rows (a header row is allowed)."""
    out: dict[str, dt.datetime] = {}
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except OSError as exc:
        raise LateError(f"cannot read the extensions file {path}: {exc.strerror}") from None
    for i, row in enumerate(rows, 1):
        if not row or (i == 1 and row[0].strip().lower() == "student"):
            continue
        if len(row) != 2:
            raise LateError(f"{path}, line {i}: expected student,deadline")
        out[row[0].strip()] = parse_time(row[1])
    return out


@dataclass(frozen=True)
class LatePolicy:
    deadline: dt.datetime
    per_day: float = 0.10  # fraction of the unit's score per started day late
    max_penalty: float = 0.50
    extensions: dict[str, dt.datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (0 <= self.per_day <= 1 and 0 <= self.max_penalty <= 1):
            raise LateError("late penalties are fractions between 0 and 1 (10% is 0.10)")

    def due(self, student: str) -> dt.datetime:
        return self.extensions.get(student, self.deadline)

    def assess(self, student: str, submitted: float | None) -> tuple[int, float]:
        """(started days late, penalty fraction) for a submission made at ``submitted`` (epoch seconds)."""
        if submitted is None:
            return 0, 0.0
        late = submitted - self.due(student).timestamp()
        days = math.ceil(late / 86400) if late > 0 else 0
        return days, min(self.max_penalty, days * self.per_day)

    def describe(self) -> dict:
        return {
            "deadline": self.deadline.isoformat(),
            "per_day": self.per_day,
            "max_penalty": self.max_penalty,
            "extensions": {s: d.isoformat() for s, d in sorted(self.extensions.items())},
            "rule": f"{self.per_day:.0%} of the unit's score per started day after the student's deadline, "
            f"at most {self.max_penalty:.0%}",
        }
