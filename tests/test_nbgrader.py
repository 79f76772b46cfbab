"""Grades written through nbgrader's Gradebook API read back with `nbgrader export`."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from tests.test_hostile import FIXTURE, SOLVED

pytest.importorskip("nbgrader")
TRAP = (FIXTURE / "checks" / "01_toy" / "traps" / "int64_default.py").read_text()


def test_grades_reach_nbgrader_export(tmp_path):
    """Scores written into a real nbgrader course come back from `nbgrader export` as graded."""
    subs = tmp_path / "subs"
    for name, src in {"amy": SOLVED, "bo": SOLVED + "\n\n" + TRAP}.items():
        (subs / name).mkdir(parents=True)
        (subs / name / "toy.py").write_text(src)
    out = tmp_path / "out"
    graded = CliRunner().invoke(main, ["grade", str(subs), "--out", str(out), "--course", str(FIXTURE), "--workers", "1"])
    assert graded.exit_code == 0, graded.output
    course = tmp_path / "nbcourse"
    course.mkdir()
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")
    result = CliRunner().invoke(main, ["nbgrader", "export", str(out / "grades.json"), "--course-dir", str(course), "--assignment", "ps1"])
    assert result.exit_code == 0, result.output
    nbgrader = shutil.which("nbgrader", path=str(Path(sys.executable).parent)) or "nbgrader"
    subprocess.run([nbgrader, "export"], cwd=course, check=True, capture_output=True, timeout=120)
    rows = {r["student_id"]: r for r in csv.DictReader((course / "grades.csv").open())}
    assert float(rows["amy"]["score"]) == 4.0 and float(rows["bo"]["score"]) == 3.0
    assert float(rows["amy"]["max_score"]) == 4.0 and rows["bo"]["assignment"] == "ps1"
    # exporting again after a regrade updates, never duplicates
    assert CliRunner().invoke(main, ["nbgrader", "export", str(out / "grades.json"), "--course-dir", str(course), "--assignment", "ps1"]).exit_code == 0
    subprocess.run([nbgrader, "export"], cwd=course, check=True, capture_output=True, timeout=120)
    assert len(list(csv.DictReader((course / "grades.csv").open()))) == 2


def test_missing_course_folder_is_a_clear_error(tmp_path):
    grades = tmp_path / "grades.json"
    grades.write_text(json.dumps({"students": {}, "units": []}))
    result = CliRunner().invoke(main, ["nbgrader", "export", str(grades), "--course-dir", str(tmp_path / "nope"), "--assignment", "a"])
    assert result.exit_code == 2
