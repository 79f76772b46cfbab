"""PrairieLearn's external grader: /grade/student in, /grade/results/results.json out, in its documented schema."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.test_hostile import FIXTURE, SOLVED

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "prairielearn_results.json").read_text())
TRAP = (FIXTURE / "checks" / "01_toy" / "traps" / "int64_default.py").read_text()


def grade(root: Path, files: dict[str, str], course: Path | None = None) -> dict:
    """A job as PrairieLearn lays it out: the course in serverFilesCourse/torchgrade, the student's files."""
    if course is None:
        shutil.copytree(FIXTURE, root / "serverFilesCourse" / "torchgrade", dirs_exist_ok=True)
    for name, text in files.items():
        path = root / "student" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "student").mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "autograder", "prairielearn", "run", "--units", "01_toy", "--root", str(root), "--seed", "2"]
    done = subprocess.run(cmd + (["--course", str(course)] if course else []), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, SCHEMA)
    return results


def test_full_marks_are_score_one(tmp_path):
    results = grade(tmp_path / "grade", {"toy.py": SOLVED})
    assert results["gradable"] is True and results["score"] == 1.0 and results["message"] == "4 of 4 points"
    assert {t["name"].split(" · ")[1] for t in results["tests"]} == {"make_zeros", "from_list", "scale"}
    assert all(t["points"] == t["max_points"] and t["message"] == "passed" for t in results["tests"])


def test_a_trap_costs_its_points_and_says_why(tmp_path):
    results = grade(tmp_path / "grade", {"work/toy.py": SOLVED + "\n\n" + TRAP})  # uploaded inside a folder
    assert results["score"] == 0.75
    (failed,) = [t for t in results["tests"] if t["points"] < t["max_points"]]
    assert "from_list" in failed["name"] and "int64" in failed["message"]


def test_no_file_is_not_gradable(tmp_path):
    results = grade(tmp_path / "grade", {"notes.txt": "hello"})
    assert results == {"gradable": False, "message": "no file to grade: hand in toy.ipynb, toy.py"}


def test_a_link_to_the_solution_is_not_followed(tmp_path):
    root = tmp_path / "grade"
    shutil.copytree(FIXTURE, root / "serverFilesCourse" / "torchgrade")
    (root / "student").mkdir(parents=True)
    (root / "student" / "toy.py").symlink_to(root / "serverFilesCourse" / "torchgrade" / "solutions" / "01_toy" / "toy.py")
    results = grade(root, {})
    assert results["gradable"] is False and "toy.py cannot be read" in results["message"]


def test_the_schema_refuses_what_prairielearn_would():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gradable": True, "score": 3}, SCHEMA)  # score is a fraction
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"gradable": True}, SCHEMA)
