"""What a learner has passed, kept in the course (``.torchgrade/progress.json``).

Never needed for grading and safe to delete; light, so that ``torchgrade list``
reads it without importing torch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from autograder.units import Course

__all__ = ["PROGRESS_FILE", "load_progress", "save_progress"]

PROGRESS_FILE = Path(".torchgrade") / "progress.json"


def save_progress(course: Course, scores: dict) -> None:
    """Remember which exercises pass, for ``torchgrade list``."""
    path = course.root / PROGRESS_FILE
    known = load_progress(course)
    for name, s in scores.items():
        exercises: dict[str, bool] = {}
        for row in s.checks:
            exercises[row["exercise"]] = exercises.get(row["exercise"], True) and row["status"] == "passed"
        known[name] = {"score": s.score, "max_score": s.max_score, "exercises": exercises}
    try:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(known, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only checkout still checks; it just does not remember


def load_progress(course: Course) -> dict:
    try:
        return json.loads((course.root / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return {}

