"""``torchgrade nbgrader assign``: a course nbgrader's own tools accept, whose
grades match torchgrade's exercise by exercise."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")  # nbgrader finds this kernel and alembic
UNIT = "01_tensors"


def _run(*cmd: str, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(list(cmd), cwd=cwd, env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"{cmd[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    nbc = tmp_path_factory.mktemp("nbgrader") / "course"
    _run(str(BIN / "torchgrade"), "nbgrader", "assign", str(nbc), "--units", UNIT, "--course", str(ROOT), cwd=nbc.parent)
    _run(str(BIN / "nbgrader"), "generate_assignment", UNIT, "--force", cwd=nbc)
    source = json.loads((nbc / "source" / UNIT / "tensors.ipynb").read_text())
    released = json.loads((nbc / "release" / UNIT / "tensors.ipynb").read_text())
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source["cells"] if c["metadata"].get("nbgrader", {}).get("solution")}

    def submit(student: str, skip: set[str] = frozenset(), extra: list[str] = (), setup: str | None = None) -> None:
        nb = json.loads(json.dumps(released))
        for cell in nb["cells"]:
            marks = cell["metadata"].get("nbgrader", {})
            if marks.get("solution") and marks["grade_id"] not in skip:
                cell["source"] = answers[marks["grade_id"]]
            if marks.get("grade_id") == "setup" and setup is not None:
                cell["source"] = setup
        nb["cells"] += [{"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": None} for s in extra]
        folder = nbc / "submitted" / student / UNIT
        folder.mkdir(parents=True)
        (folder / "tensors.ipynb").write_text(json.dumps(nb))
        (folder / "timestamp.txt").write_text("2026-12-01 12:00:00.000000 UTC")

    submit("ada")
    submit("ben", skip={"random_images", "convert"})  # two TODOs left
    submit("cy", extra=["raise RuntimeError('a last cell that raises')"])
    submit("dee", skip={a for a in answers})  # nothing done
    submit("eve", setup="%load_ext autograder\n%unit 01_tensors")  # a read-only cell edited: its imports gone
    return nbc


def test_the_source_has_solution_regions_and_test_cells_worth_the_points(course):
    from autograder.units import load_course

    unit = load_course(ROOT).unit(UNIT)
    nb = json.loads((course / "source" / UNIT / "tensors.ipynb").read_text())
    tests = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")}
    assert {g: c["metadata"]["nbgrader"]["points"] for g, c in tests.items()} == {f"test_{e.name}": e.points for e in unit.exercises}
    released = (course / "release" / UNIT / "tensors.ipynb").read_text()
    assert "### BEGIN SOLUTION" not in released and released.count("raise NotImplementedError()") == len(unit.exercises)
    assert (course / "solutions").exists() is False  # nbgrader's folders only


def test_nbgrader_autograde_and_torchgrade_agree_exercise_by_exercise(course, tmp_path):
    """nbgrader's own autograde, on notebooks whose test cells call torchgrade's
    checks, gives the scores torchgrade's grade gives the same submitted folder."""
    _run(str(BIN / "nbgrader"), "autograde", UNIT, "--force", cwd=course)
    _run(str(BIN / "nbgrader"), "export", "--to", str(tmp_path / "nbgrader.csv"), cwd=course)  # what the formgrader reads
    nbgrader = {row["student_id"]: float(row["score"]) for row in csv.DictReader((tmp_path / "nbgrader.csv").open())}
    _run(str(BIN / "torchgrade"), "grade", str(course), "--out", str(tmp_path / "out"), "--units", UNIT, "--course", str(ROOT),
         "--seed", "3", cwd=tmp_path)  # fmt: skip
    ours = json.loads((tmp_path / "out" / "grades.json").read_text())["students"]
    torchgrade = {s: v["units"][UNIT]["score"] for s, v in ours.items()}
    assert nbgrader == torchgrade
    most = ours["ada"]["units"][UNIT]["max_score"]
    assert torchgrade["ada"] == torchgrade["cy"] == most and torchgrade["dee"] == 0 and 0 < torchgrade["ben"] < most
    # both ran eve's read-only setup cell as released, not as she edited it
    assert torchgrade["eve"] == most and "code cell 1: a read-only cell was changed; it ran as released" in ours["eve"]["units"][UNIT]["notes"]
    # per exercise: nbgrader's test cell of each exercise earned what torchgrade's checks of it did
    autograded = json.loads((course / "autograded" / "ben" / UNIT / "tensors.ipynb").read_text())
    earned = {}
    for cell in autograded["cells"]:
        marks = cell["metadata"].get("nbgrader", {})
        if marks.get("grade") and not marks.get("solution"):
            result = next(o for o in cell["outputs"] if o["output_type"] == "execute_result")
            earned[marks["grade_id"].removeprefix("test_")] = float("".join(result["data"]["text/plain"]))
    ben = {}
    for row in ours["ben"]["units"][UNIT]["checks"]:
        ben[row["exercise"]] = ben.get(row["exercise"], 0) + row["points"]
    assert earned == pytest.approx(ben) and earned["random_images"] == earned["convert"] == 0
    # the formgrader's own view (its API, which its pages show) has the same scores
    formgrader = subprocess.run([sys.executable, "-c", _FORMGRADER, str(course), UNIT], capture_output=True, text=True, env=ENV, cwd=course, timeout=300)
    assert formgrader.returncode == 0, formgrader.stderr[-2000:]
    assert json.loads(formgrader.stdout) == nbgrader


# Run in the nbgrader course's folder: what the formgrader's submissions page is built from.
_FORMGRADER = """
import json, sys
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
config = Config()
config.CourseDirectory.root = sys.argv[1]
api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
print(json.dumps({s["student"]: s["score"] for s in api.get_submissions(sys.argv[2])}))
"""
