"""What a learner has passed, kept in the course (``.torchgrade/progress.json``).

Never needed for grading and safe to delete; light, so that ``torchgrade list``
reads it without importing torch.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from autograder.units import Course

__all__ = ["PROGRESS_FILE", "load_progress", "save_progress", "passed", "hints_seen", "note_hint", "note_gave_up", "gave_up"]

PROGRESS_FILE = Path(".torchgrade") / "progress.json"


def save_progress(course: Course, scores: dict, partial: bool = False) -> None:
    """Remember which exercises pass, for ``torchgrade list``.

    ``partial``: the scores are of some exercises only (a watch on one):
    theirs are updated, the unit's score is left as it was.
    """
    known = load_progress(course)
    for name, s in scores.items():
        exercises: dict[str, bool] = {}
        for row in s.checks:
            exercises[row["exercise"]] = exercises.get(row["exercise"], True) and row["status"] == "passed"
        # what was passed once stays passed: a later edit that breaks it does not take back the solution
        before = known.get(name, {})
        ever = {e for e, ok in before.get("exercises", {}).items() if ok} | set(before.get("passed_once", []))
        update = {"exercises": (before.get("exercises", {}) | exercises) if partial else exercises,
                  "passed_once": sorted(ever | {e for e, ok in exercises.items() if ok})}  # fmt: skip
        if not partial:
            update |= {"score": s.score, "max_score": s.max_score}
        known[name] = before | update
    _write(course, known)


def _write(course: Course, known: dict) -> None:
    path = course.root / PROGRESS_FILE
    try:
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(known, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only checkout still checks; it just does not remember


def passed(course: Course, unit: str, exercise: str) -> bool:
    """Whether the learner's own answer to ``exercise`` has passed every check at least once."""
    return exercise in load_progress(course).get(unit, {}).get("passed_once", [])


def hints_seen(course: Course, unit: str, exercise: str) -> int:
    """The highest hint level shown for ``exercise`` (0: none)."""
    return int(load_progress(course).get(unit, {}).get("hints", {}).get(exercise, 0))


def note_hint(course: Course, unit: str, exercise: str, level: int) -> None:
    known = load_progress(course)
    hints = known.setdefault(unit, {}).setdefault("hints", {})
    hints[exercise] = max(level, int(hints.get(exercise, 0)))
    _write(course, known)


def gave_up(course: Course, unit: str, exercise: str) -> bool:
    return exercise in load_progress(course).get(unit, {}).get("gave_up", [])


def note_gave_up(course: Course, unit: str, exercise: str) -> None:
    known = load_progress(course)
    entry = known.setdefault(unit, {})
    entry["gave_up"] = sorted(set(entry.get("gave_up", [])) | {exercise})
    _write(course, known)


def load_progress(course: Course) -> dict:
    try:
        return json.loads((course.root / PROGRESS_FILE).read_text())
    except (OSError, ValueError):
        return {}

