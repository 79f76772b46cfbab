"""Grades into an nbgrader course's gradebook, through nbgrader's own API.

Each unit becomes a notebook of the nbgrader assignment, each check a grade
cell worth the check's points, and each student's points the cell's
``auto_score``: ``nbgrader export`` and the formgrader then show them.
nbgrader is an optional dependency (``pip install nbgrader``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["NbgraderError", "export_grades"]


class NbgraderError(Exception):
    pass


def export_grades(doc: dict, course_dir: Path, assignment: str, db_url: str | None = None) -> int:
    """Write the grades document ``doc`` into the course's gradebook; return the students written."""
    try:
        from nbgrader.api import Gradebook, MissingEntry
    except ImportError:
        raise NbgraderError("nbgrader is not installed: pip install nbgrader (or torchgrade[notebook])") from None
    if not course_dir.is_dir():
        raise NbgraderError(f"{course_dir} is not an nbgrader course folder")
    cells = _max_points(doc)
    # nbgrader's Gradebook runs the `alembic` command, installed beside this interpreter
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    with Gradebook(db_url or f"sqlite:///{(course_dir / 'gradebook.db').resolve()}") as gb:
        gb.update_or_create_assignment(assignment)
        for unit_name in {u for u, _ in cells}:
            gb.update_or_create_notebook(unit_name, assignment)
        for (unit_name, check), points in cells.items():
            gb.update_or_create_grade_cell(check, unit_name, assignment, max_score=points, cell_type="code")
        for student, row in doc["students"].items():
            gb.update_or_create_student(student)
            try:
                gb.find_submission(assignment, student)
                # a submission made before a check existed has no grade for it: make it anew
                for (unit_name, check) in cells:
                    gb.find_grade(check, unit_name, assignment, student)
            except MissingEntry:
                try:
                    gb.remove_submission(assignment, student)
                except MissingEntry:
                    pass
                gb.add_submission(assignment, student)
            for unit_name, unit in row["units"].items():
                earned: dict[str, float] = {}
                for c in unit["checks"]:
                    check = c["id"].split("::", 1)[-1]
                    earned[check] = earned.get(check, 0.0) + c["points"]
                penalty = (unit.get("late") or {}).get("penalty", 0.0)
                for check, points in earned.items():
                    grade = gb.find_grade(check, unit_name, assignment, student)
                    grade.auto_score = round(points * (1 - penalty), 6)
        gb.db.commit()
    return len(doc["students"])


def _max_points(doc: dict) -> dict[tuple[str, str], float]:
    """Each check's points: the sum of its device rows' shares, from any student who ran it."""
    found: dict[tuple[str, str], float] = {}
    for row in doc["students"].values():
        for unit_name, unit in row["units"].items():
            per_check: dict[str, float] = {}
            for c in unit["checks"]:
                check = c["id"].split("::", 1)[-1]
                per_check[check] = per_check.get(check, 0.0) + c["max_points"]
            for check, points in per_check.items():
                found[(unit_name, check)] = max(found.get((unit_name, check), 0.0), round(points, 6))
    return found
