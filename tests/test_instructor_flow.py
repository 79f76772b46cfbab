"""An instructor's flows end to end through the CLI: an LMS zip, and an nbgrader course."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from autograder.cli import main
from tests.test_hostile import FIXTURE, SOLVED

TRAP = (FIXTURE / "checks" / "01_toy" / "traps" / "int64_default.py").read_text()


def run(*args: str):
    result = CliRunner().invoke(main, [*args, "--course", str(FIXTURE)] if args[0] == "grade" else list(args))
    assert result.exit_code == 0, result.output
    return result


def test_lms_zip_to_csv_and_feedback(tmp_path):
    """A Canvas zip is graded: the CSV has a row per student and each has a feedback page."""
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("smithjane_1001_5001_toy.py", "draft = 1\n")
        zf.writestr("smithjane_1001_5002_toy-1.py", SOLVED)
        zf.writestr("doejohn_LATE_1002_5003_toy.py", SOLVED + "\n\n" + TRAP)
    run("grade", str(archive), "--out", str(tmp_path / "out"), "--workers", "1")
    rows = {r["student"]: r for r in csv.DictReader((tmp_path / "out" / "grades.csv").open())}
    assert rows["smithjane_1001"]["01_toy"] == "4" and rows["doejohn_1002"]["01_toy"] == "3"
    assert (tmp_path / "out" / "feedback" / "doejohn_1002.html").is_file()


@pytest.mark.skipif(shutil.which("nbgrader", path=str(Path(sys.executable).parent)) is None, reason="needs nbgrader")
def test_nbgrader_course_graded_and_exported(tmp_path):
    """Grade an nbgrader course's submitted/ tree, write the grades into it, read them with nbgrader export."""
    course = tmp_path / "course"
    (course / "nbgrader_config.py").parent.mkdir()
    (course / "nbgrader_config.py").write_text(f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\n")
    for student, src in {"ana": SOLVED, "ben": SOLVED + "\n\n" + TRAP}.items():
        folder = course / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        (folder / "toy.py").write_text(src)
        (folder / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC")
    run("grade", str(course), "--out", str(tmp_path / "out"), "--workers", "1")
    run("nbgrader", "export", str(tmp_path / "out" / "grades.json"), "--course-dir", str(course), "--assignment", "ps1")
    nbgrader = shutil.which("nbgrader", path=str(Path(sys.executable).parent))
    subprocess.run([nbgrader, "export"], cwd=course, check=True, capture_output=True, timeout=120)
    scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader((course / "grades.csv").open())}
    assert scores == {"ana": 4.0, "ben": 3.0}
