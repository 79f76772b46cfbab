"""PrairieLearn's external grader: ``torchgrade prairielearn run``.

PrairieLearn starts the grading image with the job under ``/grade/``: the
student's files in ``/grade/student/``, the question's in ``/grade/tests/``
and the course's ``serverFilesCourse`` in ``/grade/serverFilesCourse/``; it
reads ``/grade/results/results.json``: ``gradable``, ``score`` (0 to 1),
``message``, ``output`` and ``tests[]`` with ``name``, ``points``,
``max_points``, ``message`` and ``output``. The torchgrade course is looked
for in ``serverFilesCourse/torchgrade/`` unless ``--course`` says where.
A submission without any unit's file is not gradable (it costs no attempt).
"""

from __future__ import annotations

import time
from pathlib import Path

from autograder.grading import grade_class
from autograder.intake import collect_uploaded
from autograder.json_text import lined_json
from autograder.runner import RunSettings, private_tempdir
from autograder.scoring import runs_by_check
from autograder.units import Course, Unit

__all__ = ["grade_job", "write_results", "default_course"]


def default_course(root: Path) -> Path:
    return root / "serverFilesCourse" / "torchgrade"


def grade_job(course: Course, units: list[Unit], root: Path, settings: RunSettings) -> dict:
    """Grade ``root/student/`` on ``units``; return PrairieLearn's results.json content."""
    wanted = {u.filename for u in units} | {f"{u.module}.ipynb" for u in units}
    with private_tempdir("prairielearn") as tmp:
        mine = Path(tmp) / "subs" / "student"
        passed_over = collect_uploaded(root / "student", wanted, mine)
        if not any(mine.iterdir()):
            names = ", ".join(sorted(wanted))
            return {"gradable": False, "message": f"no file to grade: hand in {names}" + "".join(f"; {n}" for n in passed_over)}
        start = time.perf_counter()
        doc = grade_class(course, mine.parent, Path(tmp) / "out", units, settings).document
    row = doc["students"]["student"]
    tests, problems = [], []
    for unit_name, unit in row["units"].items():
        if unit["problem"]:
            problems.append(f"{unit_name}: {unit['problem']}")
        for check_id, runs in runs_by_check(unit["checks"]).items():
            failed = sorted({f"[{c['device']}] {c['status']}: {c['message']}" for c in runs if c["status"] != "passed"})
            tests.append({
                "name": f"{unit_name} · {runs[0]['exercise']} · {check_id.split('::', 1)[-1]}",
                "points": round(sum(c["points"] for c in runs), 6),
                "max_points": round(sum(c["max_points"] for c in runs), 6),
                "message": "passed" if not failed else failed[0].split(": ", 1)[-1][:300],
                "output": "\n".join(failed),
            })  # fmt: skip
    most = row["max_total"]
    notes = [f"seed {doc['seed']}", doc["cuda"], f"graded in {time.perf_counter() - start:.1f} s", *problems, *passed_over]
    notes += [n for n in doc["notes"] if n.startswith("warning:")]
    return {
        "gradable": True,
        "score": round(row["total"] / most, 6) if most else 0.0,
        "message": f"{row['total']:g} of {most:g} points" + (f"; {'; '.join(problems)}" if problems else ""),
        "output": "\n".join(notes),
        "tests": tests,
    }


def write_results(results: dict, root: Path) -> Path:
    path = root / "results" / "results.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(lined_json(results, "tests"))
    return path
